//! Synthetic foods for demos and benchmarks (`diningcoach-cli catalog generate --count N --seed S`).
//!
//! Deterministic: the same seed and count give the same foods, byte for byte, on every machine, so a benchmark
//! can be re-run on the same data. The randomness is a SplitMix64 generator written here (a few lines, no
//! dependency, and its output never changes with a crate upgrade). Foods are drawn from category profiles that
//! hold realistic names, ingredient lists the dietary analyser recognises, and nutrient ranges; energy is
//! computed from the macronutrients (Atwater factors), so numbers agree with each other.
//!
//! Barcodes are EAN-13s in the GS1 prefix range `29` (restricted circulation: never given to real products,
//! so synthetic foods cannot collide with imported ones) and unique within one seed: food `n` gets payload
//! `(n × A + B(seed)) mod 10^10`, a bijection since `A` is coprime with 10.

use crate::food::{FoodDraft, FoodFields, FoodKind, FoodSource, NutrientsPer100g};
use crate::gtin::Gtin;

/// Foods one seed can make with unique barcodes.
pub const MAX_UNIQUE_BARCODES: u64 = 10_000_000_000;

/// Multiplier of the barcode permutation: odd and not a multiple of 5, so coprime with 10^10.
const BARCODE_MULTIPLIER: u64 = 3_778_123_457;

/// A SplitMix64 pseudo-random generator (Steele, Lea & Flood 2014): tiny, fast, and good enough for test data.
/// Not for anything secret.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; 0 for `n` = 0). The modulo bias is below 2^-40 for the small `n` used here.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        // 53 random bits: every value is exactly representable.
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// A number in `[low, high)`.
    pub fn between(&mut self, (low, high): (f64, f64)) -> f64 {
        low + (high - low) * self.unit()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice (`None` if empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// A kind of food: where it sits, what it is called, what it is made of and what it contains per 100 g.
struct Profile {
    main: &'static str,
    sub: &'static str,
    kind: FoodKind,
    /// Product nouns, e.g. `Greek Yogurt`.
    nouns: &'static [&'static str],
    /// Flavours or varieties: the word in the name and the ingredient it adds (empty for none).
    flavours: &'static [(&'static str, &'static str)],
    /// Ingredients every product of the profile has, in label order (the flavour goes after the first).
    base: &'static [&'static str],
    /// Ingredients some products add at the end.
    extras: &'static [&'static str],
    allergens: &'static [&'static str],
    traces: &'static [&'static str],
    labels: &'static [&'static str],
    protein_g: (f64, f64),
    fat_g: (f64, f64),
    /// Share of the fat that is saturated.
    saturated_share: (f64, f64),
    carbohydrates_g: (f64, f64),
    /// Share of the carbohydrates that is sugar.
    sugar_share: (f64, f64),
    fiber_g: (f64, f64),
    sodium_mg: (f64, f64),
    potassium_mg: (f64, f64),
    cholesterol_mg: (f64, f64),
    caffeine_mg: Option<(f64, f64)>,
    alcohol_percent_vol: Option<(f64, f64)>,
    serving_g: (f64, f64),
    storage: &'static str,
}

const NONE: (f64, f64) = (0.0, 0.0);

const PROFILES: &[Profile] = &[
    Profile {
        main: "Dairies",
        sub: "Yogurts",
        kind: FoodKind::Processed,
        nouns: &["Yogurt", "Greek Yogurt", "Set Yogurt", "Yoghurt", "Skyr"],
        flavours: &[
            ("Natural", ""),
            ("Strawberry", "strawberries"),
            ("Raspberry", "raspberries"),
            ("Vanilla", "vanilla extract"),
            ("Peach", "peaches"),
            ("Blueberry", "blueberries"),
            ("Honey", "honey"),
        ],
        base: &[
            "pasteurised whole milk",
            "skimmed milk powder",
            "live cultures",
        ],
        extras: &[
            "sugar",
            "cream",
            "milk proteins",
            "pectin",
            "lemon juice concentrate",
        ],
        allergens: &["en:milk"],
        traces: &[],
        labels: &["en:vegetarian", "en:organic"],
        protein_g: (3.0, 10.0),
        fat_g: (0.1, 10.0),
        saturated_share: (0.6, 0.7),
        carbohydrates_g: (3.5, 16.0),
        sugar_share: (0.8, 1.0),
        fiber_g: (0.0, 0.5),
        sodium_mg: (35.0, 60.0),
        potassium_mg: (140.0, 200.0),
        cholesterol_mg: (2.0, 15.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (100.0, 170.0),
        storage: "Keep refrigerated below 5 °C. Once opened, eat within 3 days.",
    },
    Profile {
        main: "Dairies",
        sub: "Cheeses",
        kind: FoodKind::Processed,
        nouns: &["Cheddar", "Mozzarella", "Gouda", "Emmental", "Feta"],
        flavours: &[
            ("Mature", ""),
            ("Mild", ""),
            ("Smoked", ""),
            ("Light", ""),
            ("Organic", ""),
        ],
        base: &["pasteurised milk", "salt", "cheese cultures"],
        extras: &["rennet", "calcium chloride", "annatto"],
        allergens: &["en:milk"],
        traces: &[],
        labels: &["en:organic"],
        protein_g: (17.0, 27.0),
        fat_g: (15.0, 35.0),
        saturated_share: (0.6, 0.68),
        carbohydrates_g: (0.0, 2.5),
        sugar_share: (0.5, 1.0),
        fiber_g: NONE,
        sodium_mg: (450.0, 1_100.0),
        potassium_mg: (70.0, 120.0),
        cholesterol_mg: (70.0, 110.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (25.0, 40.0),
        storage: "Keep refrigerated. Once opened, wrap and eat within 7 days.",
    },
    Profile {
        main: "Beverages",
        sub: "Plant-based milks",
        kind: FoodKind::Processed,
        nouns: &["Oat Drink", "Soya Drink", "Almond Drink", "Oat Milk"],
        flavours: &[
            ("Original", ""),
            ("Barista", ""),
            ("Unsweetened", ""),
            ("Chocolate", "cocoa powder"),
        ],
        base: &["water", "oats"],
        extras: &[
            "rapeseed oil",
            "sea salt",
            "calcium carbonate",
            "vitamin d2",
            "vitamin b12",
            "gellan gum",
        ],
        allergens: &[],
        traces: &["en:nuts"],
        labels: &["en:vegan", "en:vegetarian", "en:organic"],
        protein_g: (0.3, 3.5),
        fat_g: (1.0, 3.0),
        saturated_share: (0.1, 0.2),
        carbohydrates_g: (0.5, 7.0),
        sugar_share: (0.0, 0.6),
        fiber_g: (0.0, 1.0),
        sodium_mg: (30.0, 50.0),
        potassium_mg: (20.0, 150.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (200.0, 250.0),
        storage: "Shake well. Once opened, keep refrigerated and use within 5 days.",
    },
    Profile {
        main: "Snacks",
        sub: "Chocolates",
        kind: FoodKind::Processed,
        nouns: &[
            "Milk Chocolate",
            "Dark Chocolate",
            "Chocolate Bar",
            "Chocolate Buttons",
        ],
        flavours: &[
            ("Hazelnut", "hazelnuts"),
            ("Almond", "almonds"),
            ("Orange", "orange"),
            ("Sea Salt", "sea salt"),
            ("Classic", ""),
            ("Raisin", "raisins"),
        ],
        base: &["sugar", "cocoa butter", "cocoa mass", "whole milk powder"],
        extras: &[
            "emulsifier soya lecithin",
            "vanilla extract",
            "skimmed milk powder",
            "butterfat",
        ],
        allergens: &["en:milk", "en:soybeans"],
        traces: &["en:nuts", "en:peanuts", "en:gluten"],
        labels: &["en:fair-trade", "en:vegetarian"],
        protein_g: (5.0, 9.0),
        fat_g: (28.0, 42.0),
        saturated_share: (0.55, 0.65),
        carbohydrates_g: (35.0, 60.0),
        sugar_share: (0.75, 0.98),
        fiber_g: (1.0, 11.0),
        sodium_mg: (30.0, 120.0),
        potassium_mg: (300.0, 700.0),
        cholesterol_mg: (5.0, 25.0),
        caffeine_mg: Some((10.0, 80.0)),
        alcohol_percent_vol: None,
        serving_g: (20.0, 45.0),
        storage: "Store in a cool, dry place away from sunlight.",
    },
    Profile {
        main: "Snacks",
        sub: "Crisps",
        kind: FoodKind::Processed,
        nouns: &["Crisps", "Potato Chips", "Kettle Chips", "Tortilla Chips"],
        flavours: &[
            ("Ready Salted", ""),
            ("Sea Salt and Vinegar", "spirit vinegar"),
            ("Cheese and Onion", "cheese powder"),
            ("Paprika", "paprika"),
            ("Sour Cream and Chive", "sour cream"),
            ("Sweet Chilli", "chilli powder"),
        ],
        base: &["potatoes", "sunflower oil", "salt"],
        extras: &[
            "rice flour",
            "dextrose",
            "onion powder",
            "garlic powder",
            "yeast extract",
            "citric acid",
        ],
        allergens: &[],
        traces: &["en:milk", "en:gluten"],
        labels: &["en:vegetarian", "en:gluten-free"],
        protein_g: (5.0, 8.0),
        fat_g: (20.0, 35.0),
        saturated_share: (0.08, 0.15),
        carbohydrates_g: (48.0, 62.0),
        sugar_share: (0.0, 0.08),
        fiber_g: (3.0, 5.5),
        sodium_mg: (400.0, 800.0),
        potassium_mg: (1_000.0, 1_600.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (25.0, 40.0),
        storage: "Store in a cool, dry place.",
    },
    Profile {
        main: "Snacks",
        sub: "Biscuits",
        kind: FoodKind::Processed,
        nouns: &[
            "Biscuits",
            "Cookies",
            "Digestives",
            "Shortbread",
            "Crackers",
        ],
        flavours: &[
            ("Chocolate Chip", "chocolate chips"),
            ("Oat", "rolled oats"),
            ("Butter", "butter"),
            ("Ginger", "ginger"),
            ("Coconut", "desiccated coconut"),
            ("Wholemeal", "wholemeal flour"),
        ],
        base: &["wheat flour", "sugar", "palm oil"],
        extras: &[
            "glucose syrup",
            "raising agents sodium bicarbonate",
            "salt",
            "whole egg",
            "skimmed milk powder",
            "natural flavouring",
        ],
        allergens: &["en:gluten"],
        traces: &["en:milk", "en:eggs", "en:nuts", "en:sesame-seeds"],
        labels: &["en:vegetarian"],
        protein_g: (5.0, 8.0),
        fat_g: (12.0, 28.0),
        saturated_share: (0.35, 0.6),
        carbohydrates_g: (55.0, 72.0),
        sugar_share: (0.2, 0.5),
        fiber_g: (1.5, 6.0),
        sodium_mg: (150.0, 450.0),
        potassium_mg: (100.0, 250.0),
        cholesterol_mg: (0.0, 40.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (12.0, 30.0),
        storage: "Store in a cool, dry place. Once opened, keep in an airtight container.",
    },
    Profile {
        main: "Cereals and potatoes",
        sub: "Breakfast cereals",
        kind: FoodKind::Processed,
        nouns: &[
            "Muesli",
            "Granola",
            "Porridge Oats",
            "Corn Flakes",
            "Bran Flakes",
        ],
        flavours: &[
            ("Fruit and Nut", "raisins"),
            ("Honey", "honey"),
            ("Apple and Cinnamon", "dried apple"),
            ("Original", ""),
            ("Berry", "dried cranberries"),
            ("Chocolate", "cocoa powder"),
        ],
        base: &["whole grain rolled oats", "wheat"],
        extras: &[
            "sugar",
            "sunflower seeds",
            "hazelnuts",
            "barley malt extract",
            "salt",
            "iron",
            "niacin",
        ],
        allergens: &["en:gluten"],
        traces: &["en:nuts", "en:milk", "en:peanuts"],
        labels: &["en:vegetarian", "en:vegan", "en:organic"],
        protein_g: (7.0, 14.0),
        fat_g: (1.0, 18.0),
        saturated_share: (0.1, 0.3),
        carbohydrates_g: (55.0, 80.0),
        sugar_share: (0.02, 0.35),
        fiber_g: (3.0, 14.0),
        sodium_mg: (5.0, 450.0),
        potassium_mg: (250.0, 500.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (30.0, 50.0),
        storage: "Store in a cool, dry place. Once opened, reseal.",
    },
    Profile {
        main: "Cereals and potatoes",
        sub: "Breads",
        kind: FoodKind::Processed,
        nouns: &["Bread", "Sourdough", "Loaf", "Rolls", "Bagels", "Wraps"],
        flavours: &[
            ("White", ""),
            ("Wholemeal", "wholemeal flour"),
            ("Seeded", "sunflower seeds"),
            ("Rye", "rye flour"),
            ("Multigrain", "barley flakes"),
            ("Spelt", "spelt flour"),
        ],
        base: &["wheat flour", "water", "yeast", "salt"],
        extras: &[
            "rapeseed oil",
            "vinegar",
            "sugar",
            "wheat gluten",
            "ascorbic acid",
            "soya flour",
        ],
        allergens: &["en:gluten"],
        traces: &["en:sesame-seeds", "en:milk", "en:soybeans"],
        labels: &["en:vegan", "en:vegetarian"],
        protein_g: (7.0, 12.0),
        fat_g: (1.0, 8.0),
        saturated_share: (0.1, 0.25),
        carbohydrates_g: (38.0, 52.0),
        sugar_share: (0.03, 0.12),
        fiber_g: (2.5, 9.0),
        sodium_mg: (350.0, 550.0),
        potassium_mg: (100.0, 300.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (35.0, 80.0),
        storage: "Store in a cool, dry place. Suitable for freezing.",
    },
    Profile {
        main: "Cereals and potatoes",
        sub: "Pasta",
        kind: FoodKind::Processed,
        nouns: &[
            "Spaghetti",
            "Penne",
            "Fusilli",
            "Linguine",
            "Farfalle",
            "Egg Noodles",
        ],
        flavours: &[
            ("Durum Wheat", ""),
            ("Wholewheat", "whole wheat flour"),
            ("Egg", "pasteurised egg"),
            ("Spinach", "spinach"),
        ],
        base: &["durum wheat semolina"],
        extras: &["water"],
        allergens: &["en:gluten"],
        traces: &["en:eggs", "en:soybeans"],
        labels: &["en:vegan", "en:organic"],
        protein_g: (11.0, 15.0),
        fat_g: (1.2, 3.5),
        saturated_share: (0.15, 0.3),
        carbohydrates_g: (62.0, 74.0),
        sugar_share: (0.03, 0.06),
        fiber_g: (2.5, 9.0),
        sodium_mg: (2.0, 20.0),
        potassium_mg: (180.0, 350.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (75.0, 100.0),
        storage: "Store in a cool, dry place.",
    },
    Profile {
        main: "Meals",
        sub: "Soups",
        kind: FoodKind::Processed,
        nouns: &["Soup", "Broth", "Chowder", "Bisque"],
        flavours: &[
            ("Tomato", "tomatoes"),
            ("Chicken Noodle", "chicken"),
            ("Lentil", "red lentils"),
            ("Minestrone", "haricot beans"),
            ("Mushroom", "mushrooms"),
            ("Pea and Ham", "ham"),
            ("Butternut Squash", "squash"),
        ],
        base: &["water", "onions", "carrots"],
        extras: &[
            "rapeseed oil",
            "salt",
            "garlic",
            "black pepper",
            "cornflour",
            "cream",
            "celery",
            "parsley",
        ],
        allergens: &[],
        traces: &["en:celery", "en:milk", "en:gluten"],
        labels: &["en:no-preservatives"],
        protein_g: (0.8, 5.0),
        fat_g: (0.5, 4.0),
        saturated_share: (0.1, 0.5),
        carbohydrates_g: (4.0, 10.0),
        sugar_share: (0.15, 0.5),
        fiber_g: (0.5, 3.0),
        sodium_mg: (200.0, 400.0),
        potassium_mg: (120.0, 300.0),
        cholesterol_mg: (0.0, 10.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (200.0, 300.0),
        storage: "Keep refrigerated. Once opened, eat within 2 days.",
    },
    Profile {
        main: "Meals",
        sub: "Ready meals",
        kind: FoodKind::Cooked,
        nouns: &["Lasagne", "Curry", "Risotto", "Stir Fry", "Chilli", "Pie"],
        flavours: &[
            ("Beef", "beef"),
            ("Chicken", "chicken breast"),
            ("Vegetable", "courgette"),
            ("Mushroom", "mushrooms"),
            ("Salmon", "salmon"),
            ("Chickpea", "chickpeas"),
        ],
        base: &["water", "tomatoes", "onions"],
        extras: &[
            "rice",
            "cream",
            "cheddar cheese",
            "wheat flour",
            "garlic",
            "olive oil",
            "salt",
            "curry powder",
            "coriander",
        ],
        allergens: &["en:milk"],
        traces: &["en:gluten", "en:celery", "en:mustard"],
        labels: &[],
        protein_g: (4.0, 10.0),
        fat_g: (2.0, 9.0),
        saturated_share: (0.2, 0.5),
        carbohydrates_g: (8.0, 18.0),
        sugar_share: (0.1, 0.3),
        fiber_g: (1.0, 3.5),
        sodium_mg: (250.0, 450.0),
        potassium_mg: (150.0, 350.0),
        cholesterol_mg: (5.0, 40.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (300.0, 450.0),
        storage: "Keep refrigerated. Heat until piping hot. Do not reheat.",
    },
    Profile {
        main: "Meats",
        sub: "Prepared meats",
        kind: FoodKind::Processed,
        nouns: &[
            "Ham",
            "Sausages",
            "Salami",
            "Bacon",
            "Chicken Slices",
            "Turkey Slices",
        ],
        flavours: &[
            ("Smoked", ""),
            ("Honey Roast", "honey"),
            ("Traditional", ""),
            ("Peppered", "black pepper"),
            ("Herb", "mixed herbs"),
        ],
        base: &["pork", "salt"],
        extras: &[
            "dextrose",
            "sodium nitrite",
            "sodium ascorbate",
            "water",
            "pork rind",
            "spices",
        ],
        allergens: &[],
        traces: &["en:mustard", "en:celery"],
        labels: &[],
        protein_g: (14.0, 26.0),
        fat_g: (3.0, 30.0),
        saturated_share: (0.35, 0.42),
        carbohydrates_g: (0.5, 4.0),
        sugar_share: (0.5, 1.0),
        fiber_g: NONE,
        sodium_mg: (700.0, 1_500.0),
        potassium_mg: (200.0, 350.0),
        cholesterol_mg: (50.0, 90.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (30.0, 100.0),
        storage: "Keep refrigerated. Once opened, eat within 3 days.",
    },
    Profile {
        main: "Seafood",
        sub: "Canned fish",
        kind: FoodKind::Processed,
        nouns: &["Tuna Chunks", "Sardines", "Mackerel Fillets", "Salmon"],
        flavours: &[
            ("in Spring Water", "water"),
            ("in Olive Oil", "olive oil"),
            ("in Tomato Sauce", "tomato puree"),
            ("in Brine", "water"),
        ],
        base: &["tuna"],
        extras: &["salt", "lemon juice"],
        allergens: &["en:fish"],
        traces: &[],
        labels: &["en:sustainable-fishery"],
        protein_g: (18.0, 26.0),
        fat_g: (0.5, 15.0),
        saturated_share: (0.2, 0.3),
        carbohydrates_g: (0.0, 2.0),
        sugar_share: (0.0, 1.0),
        fiber_g: NONE,
        sodium_mg: (250.0, 500.0),
        potassium_mg: (200.0, 400.0),
        cholesterol_mg: (30.0, 70.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (80.0, 120.0),
        storage: "Store in a cool, dry place. Once opened, transfer to a covered container and refrigerate.",
    },
    Profile {
        main: "Plant-based foods",
        sub: "Fruits",
        kind: FoodKind::Fresh,
        nouns: &[
            "Apples",
            "Bananas",
            "Pears",
            "Oranges",
            "Grapes",
            "Strawberries",
            "Plums",
            "Mangoes",
        ],
        flavours: &[("Loose", ""), ("Organic", ""), ("Ripe", ""), ("Sweet", "")],
        base: &[],
        extras: &[],
        allergens: &[],
        traces: &[],
        labels: &["en:organic"],
        protein_g: (0.3, 1.2),
        fat_g: (0.1, 0.5),
        saturated_share: (0.05, 0.2),
        carbohydrates_g: (8.0, 20.0),
        sugar_share: (0.7, 0.95),
        fiber_g: (1.5, 3.0),
        sodium_mg: (0.0, 3.0),
        potassium_mg: (100.0, 360.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (80.0, 150.0),
        storage: "Store in a cool place.",
    },
    Profile {
        main: "Plant-based foods",
        sub: "Vegetables",
        kind: FoodKind::Fresh,
        nouns: &[
            "Carrots",
            "Broccoli",
            "Spinach",
            "Tomatoes",
            "Courgettes",
            "Peppers",
            "Cauliflower",
        ],
        flavours: &[("Loose", ""), ("Organic", ""), ("Baby", ""), ("Vine", "")],
        base: &[],
        extras: &[],
        allergens: &[],
        traces: &[],
        labels: &["en:organic"],
        protein_g: (0.8, 3.0),
        fat_g: (0.1, 0.5),
        saturated_share: (0.05, 0.2),
        carbohydrates_g: (2.0, 9.0),
        sugar_share: (0.3, 0.7),
        fiber_g: (1.0, 3.5),
        sodium_mg: (5.0, 80.0),
        potassium_mg: (200.0, 560.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (80.0, 120.0),
        storage: "Keep refrigerated.",
    },
    Profile {
        main: "Plant-based foods",
        sub: "Legumes",
        kind: FoodKind::Processed,
        nouns: &[
            "Chickpeas",
            "Kidney Beans",
            "Baked Beans",
            "Black Beans",
            "Green Lentils",
            "Butter Beans",
        ],
        flavours: &[
            ("in Water", "water"),
            ("Reduced Salt", "water"),
            ("in Tomato Sauce", "tomato puree"),
            ("Organic", "water"),
        ],
        base: &["chickpeas"],
        extras: &[
            "salt",
            "sugar",
            "cornflour",
            "spirit vinegar",
            "spice extracts",
        ],
        allergens: &[],
        traces: &[],
        labels: &["en:vegan", "en:vegetarian", "en:organic"],
        protein_g: (4.5, 9.0),
        fat_g: (0.2, 3.0),
        saturated_share: (0.1, 0.2),
        carbohydrates_g: (10.0, 20.0),
        sugar_share: (0.02, 0.3),
        fiber_g: (3.5, 8.0),
        sodium_mg: (5.0, 300.0),
        potassium_mg: (200.0, 400.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (120.0, 200.0),
        storage: "Store in a cool, dry place. Once opened, refrigerate and use within 2 days.",
    },
    Profile {
        main: "Plant-based foods",
        sub: "Nuts",
        kind: FoodKind::Processed,
        nouns: &[
            "Almonds",
            "Cashews",
            "Walnuts",
            "Mixed Nuts",
            "Peanuts",
            "Hazelnuts",
        ],
        flavours: &[
            ("Roasted", ""),
            ("Salted", "sea salt"),
            ("Unsalted", ""),
            ("Honey Roasted", "honey"),
            ("Chilli", "chilli powder"),
        ],
        base: &["almonds"],
        extras: &["sunflower oil", "salt"],
        allergens: &["en:nuts"],
        traces: &["en:peanuts", "en:sesame-seeds"],
        labels: &["en:vegan", "en:vegetarian"],
        protein_g: (15.0, 26.0),
        fat_g: (45.0, 65.0),
        saturated_share: (0.07, 0.2),
        carbohydrates_g: (5.0, 25.0),
        sugar_share: (0.1, 0.4),
        fiber_g: (3.0, 12.0),
        sodium_mg: (2.0, 400.0),
        potassium_mg: (450.0, 750.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (25.0, 30.0),
        storage: "Store in a cool, dry place. Once opened, reseal.",
    },
    Profile {
        main: "Beverages",
        sub: "Juices",
        kind: FoodKind::Processed,
        nouns: &["Juice", "Smoothie", "Juice Drink", "Nectar"],
        flavours: &[
            ("Orange", "orange juice"),
            ("Apple", "apple juice"),
            ("Pineapple", "pineapple"),
            ("Mango", "mango"),
            ("Cranberry", "cranberry"),
            ("Grape", "grape juice"),
        ],
        base: &["apple juice"],
        extras: &["water", "lemon juice", "vitamin c", "banana"],
        allergens: &[],
        traces: &[],
        labels: &["en:vegan", "en:no-added-sugar"],
        protein_g: (0.1, 0.8),
        fat_g: (0.0, 0.3),
        saturated_share: (0.0, 0.2),
        carbohydrates_g: (8.0, 14.0),
        sugar_share: (0.85, 1.0),
        fiber_g: (0.0, 1.5),
        sodium_mg: (1.0, 10.0),
        potassium_mg: (100.0, 250.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (150.0, 250.0),
        storage: "Keep refrigerated. Once opened, consume within 4 days.",
    },
    Profile {
        main: "Beverages",
        sub: "Sodas",
        kind: FoodKind::Processed,
        nouns: &[
            "Cola",
            "Lemonade",
            "Ginger Beer",
            "Tonic Water",
            "Energy Drink",
        ],
        flavours: &[
            ("Original", ""),
            ("Zero Sugar", "sucralose"),
            ("Cherry", "cherry juice"),
            ("Lime", "lime juice"),
            ("Diet", "aspartame"),
        ],
        base: &["carbonated water", "sugar"],
        extras: &[
            "citric acid",
            "natural flavourings",
            "caramel colour",
            "phosphoric acid",
            "caffeine",
            "sodium benzoate",
        ],
        allergens: &[],
        traces: &[],
        labels: &["en:vegan"],
        protein_g: (0.0, 0.1),
        fat_g: (0.0, 0.1),
        saturated_share: (0.0, 0.0),
        carbohydrates_g: (0.0, 11.0),
        sugar_share: (0.95, 1.0),
        fiber_g: NONE,
        sodium_mg: (2.0, 20.0),
        potassium_mg: (0.0, 10.0),
        cholesterol_mg: NONE,
        caffeine_mg: Some((0.0, 32.0)),
        alcohol_percent_vol: None,
        serving_g: (250.0, 500.0),
        storage: "Store in a cool, dry place. Best served chilled.",
    },
    Profile {
        main: "Beverages",
        sub: "Coffees",
        kind: FoodKind::Processed,
        nouns: &[
            "Instant Coffee",
            "Ground Coffee",
            "Coffee Beans",
            "Iced Coffee",
        ],
        flavours: &[
            ("Medium Roast", ""),
            ("Dark Roast", ""),
            ("Decaf", "decaffeinated coffee"),
            ("Gold", ""),
            ("Latte", "skimmed milk powder"),
        ],
        base: &["coffee"],
        extras: &[],
        allergens: &[],
        traces: &["en:milk"],
        labels: &["en:fair-trade", "en:organic"],
        protein_g: (7.0, 15.0),
        fat_g: (0.2, 13.0),
        saturated_share: (0.3, 0.5),
        carbohydrates_g: (3.0, 40.0),
        sugar_share: (0.0, 0.2),
        fiber_g: (0.0, 30.0),
        sodium_mg: (2.0, 80.0),
        potassium_mg: (1_500.0, 3_500.0),
        cholesterol_mg: NONE,
        caffeine_mg: Some((1_000.0, 4_000.0)),
        alcohol_percent_vol: None,
        serving_g: (2.0, 10.0),
        storage: "Store in a cool, dry place. Once opened, keep airtight.",
    },
    Profile {
        main: "Beverages",
        sub: "Beers",
        kind: FoodKind::Processed,
        nouns: &["Lager", "Pale Ale", "IPA", "Stout", "Wheat Beer", "Pilsner"],
        flavours: &[
            ("Session", ""),
            ("Craft", ""),
            ("Premium", ""),
            ("Alcohol Free", ""),
            ("Citrus", "orange"),
        ],
        base: &["water", "barley malt", "hops", "yeast"],
        extras: &["wheat malt", "maize"],
        allergens: &["en:gluten"],
        traces: &[],
        labels: &["en:vegan"],
        protein_g: (0.3, 0.7),
        fat_g: NONE,
        saturated_share: NONE,
        carbohydrates_g: (2.0, 6.0),
        sugar_share: (0.0, 0.2),
        fiber_g: NONE,
        sodium_mg: (2.0, 10.0),
        potassium_mg: (20.0, 60.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: Some((0.0, 8.0)),
        serving_g: (330.0, 500.0),
        storage: "Store in a cool, dark place. Best served chilled.",
    },
    Profile {
        main: "Spreads",
        sub: "Sweet spreads",
        kind: FoodKind::Processed,
        nouns: &["Jam", "Spread", "Peanut Butter", "Marmalade", "Honey"],
        flavours: &[
            ("Strawberry", "strawberries"),
            ("Apricot", "apricot"),
            ("Hazelnut Cocoa", "hazelnuts"),
            ("Crunchy", "peanuts"),
            ("Blackcurrant", "blackcurrants"),
        ],
        base: &["sugar"],
        extras: &[
            "glucose fructose syrup",
            "pectin",
            "citric acid",
            "palm oil",
            "cocoa powder",
            "salt",
        ],
        allergens: &[],
        traces: &["en:nuts", "en:peanuts", "en:milk"],
        labels: &["en:vegetarian"],
        protein_g: (0.3, 25.0),
        fat_g: (0.0, 50.0),
        saturated_share: (0.1, 0.35),
        carbohydrates_g: (15.0, 65.0),
        sugar_share: (0.3, 1.0),
        fiber_g: (0.5, 7.0),
        sodium_mg: (5.0, 400.0),
        potassium_mg: (50.0, 600.0),
        cholesterol_mg: NONE,
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (15.0, 20.0),
        storage: "Once opened, keep refrigerated and eat within 4 weeks.",
    },
    Profile {
        main: "Condiments",
        sub: "Sauces",
        kind: FoodKind::Processed,
        nouns: &[
            "Ketchup",
            "Pasta Sauce",
            "Mayonnaise",
            "Soy Sauce",
            "Salsa",
            "Pesto",
        ],
        flavours: &[
            ("Classic", ""),
            ("Light", ""),
            ("Spicy", "chilli"),
            ("Garlic", "garlic"),
            ("Basil", "basil"),
            ("Reduced Salt", ""),
        ],
        base: &["tomatoes", "water", "sugar"],
        extras: &[
            "spirit vinegar",
            "salt",
            "onion powder",
            "modified maize starch",
            "olive oil",
            "black pepper",
            "oregano",
        ],
        allergens: &[],
        traces: &["en:celery", "en:mustard", "en:eggs"],
        labels: &["en:vegan", "en:gluten-free"],
        protein_g: (0.5, 5.0),
        fat_g: (0.1, 70.0),
        saturated_share: (0.07, 0.2),
        carbohydrates_g: (2.0, 30.0),
        sugar_share: (0.3, 0.9),
        fiber_g: (0.2, 2.5),
        sodium_mg: (300.0, 6_000.0),
        potassium_mg: (20.0, 400.0),
        cholesterol_mg: (0.0, 40.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (15.0, 125.0),
        storage: "Once opened, keep refrigerated and use within 6 weeks.",
    },
    Profile {
        main: "Frozen foods",
        sub: "Ice creams",
        kind: FoodKind::Processed,
        nouns: &[
            "Ice Cream",
            "Gelato",
            "Frozen Yogurt",
            "Sorbet",
            "Ice Lollies",
        ],
        flavours: &[
            ("Vanilla", "vanilla extract"),
            ("Chocolate", "cocoa powder"),
            ("Strawberry", "strawberry puree"),
            ("Salted Caramel", "caramel"),
            ("Mint Choc Chip", "chocolate chips"),
            ("Lemon", "lemon juice"),
        ],
        base: &["skimmed milk", "sugar", "cream"],
        extras: &[
            "glucose syrup",
            "egg yolk",
            "locust bean gum",
            "guar gum",
            "mono and diglycerides of fatty acids",
            "natural flavouring",
        ],
        allergens: &["en:milk"],
        traces: &["en:nuts", "en:peanuts", "en:eggs", "en:gluten"],
        labels: &["en:vegetarian"],
        protein_g: (2.5, 5.0),
        fat_g: (5.0, 16.0),
        saturated_share: (0.6, 0.7),
        carbohydrates_g: (20.0, 30.0),
        sugar_share: (0.7, 0.95),
        fiber_g: (0.0, 1.5),
        sodium_mg: (40.0, 100.0),
        potassium_mg: (120.0, 220.0),
        cholesterol_mg: (10.0, 45.0),
        caffeine_mg: None,
        alcohol_percent_vol: None,
        serving_g: (60.0, 100.0),
        storage: "Store at -18 °C or below. Do not refreeze once thawed.",
    },
];

/// Brands: invented, so that no real company's name is attached to made-up numbers.
const BRANDS: &[&str] = &[
    "Alpine Meadow",
    "Golden Fields",
    "Harbour & Hearth",
    "Nordic Table",
    "Sunny Orchard",
    "Green Valley",
    "Maison Dupré",
    "Bella Cucina",
    "Oakridge Farm",
    "Blue Coast",
    "Little Acorn",
    "Urban Pantry",
    "Copper Kettle",
    "Wild Thyme",
    "Highland Mill",
    "Sakura Kitchen",
    "Casa Verde",
    "Morning Glory",
    "Bergmann's",
    "Café Crème",
    "Riverbend",
    "True North",
    "Honeycomb Co.",
    "Fjord Fresh",
    "Saltmarsh",
    "Old Orchard",
    "Kinder Harvest",
    "Pacific Pride",
    "Red Barn",
    "Evergreen",
    "Société Laitière",
    "Sunrise Mills",
];

const COUNTRIES: &[&str] = &[
    "France",
    "Germany",
    "United Kingdom",
    "Italy",
    "Spain",
    "United States",
    "South Korea",
    "Netherlands",
    "Belgium",
    "Switzerland",
    "Canada",
    "Poland",
];

const SIZES: &[&str] = &[
    "",
    "",
    "",
    "",
    "100 g",
    "150 g",
    "200 g",
    "250 g",
    "400 g",
    "500 g",
    "1 kg",
    "330 ml",
    "1 L",
    "Family Pack",
    "Multipack",
];

/// The foods of a seed: `generate(seed, count)` is an iterator, so a million foods cost no more memory than
/// one. `count` is capped at [`MAX_UNIQUE_BARCODES`].
pub fn generate(seed: u64, count: u64) -> impl Iterator<Item = FoodDraft> {
    let count = count.min(MAX_UNIQUE_BARCODES);
    let offset = SplitMix64::new(seed ^ 0x5EED_BA2C_0DE5).next_u64() % MAX_UNIQUE_BARCODES;
    (0..count).filter_map(move |n| {
        // One generator per food, seeded from the seed and the index: food n is the same whatever the count.
        let mut rng = SplitMix64::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n);
        rng.next_u64();
        synthetic_food(seed, n, offset, &mut rng)
    })
}

fn synthetic_food(seed: u64, n: u64, offset: u64, rng: &mut SplitMix64) -> Option<FoodDraft> {
    let profile = rng.pick(PROFILES)?;
    let noun = *rng.pick(profile.nouns)?;
    let &(flavour, flavour_ingredient) = rng.pick(profile.flavours)?;
    let fresh = profile.kind == FoodKind::Fresh;
    let brand = if fresh && rng.chance(0.7) {
        None
    } else {
        rng.pick(BRANDS).copied()
    };
    let size = *rng.pick(SIZES)?;
    let mut name = String::with_capacity(48);
    if flavour.starts_with("in ") {
        name.push_str(noun);
        name.push(' ');
        name.push_str(flavour);
    } else {
        name.push_str(flavour);
        name.push(' ');
        name.push_str(noun);
    }
    if !size.is_empty() && !fresh {
        name.push_str(", ");
        name.push_str(size);
    }

    let ingredients_text = if profile.base.is_empty() {
        // Fresh produce: the ingredient is the food itself.
        Some(noun.to_lowercase())
    } else {
        let mut text = String::with_capacity(160);
        let add = |item: &str, text: &mut String| {
            if !text.is_empty() {
                text.push_str(", ");
            }
            text.push_str(item);
        };
        let mut base = profile.base.iter();
        if let Some(first) = base.next() {
            add(first, &mut text);
        }
        if !flavour_ingredient.is_empty() {
            let percent = 2 + rng.below(18);
            add(&format!("{flavour_ingredient} ({percent}%)"), &mut text);
        }
        for item in base {
            add(item, &mut text);
        }
        let extras = rng.below(profile.extras.len().min(4) + 1);
        let start = rng.below(profile.extras.len().max(1));
        for i in 0..extras {
            if let Some(item) = profile.extras.get((start + i) % profile.extras.len()) {
                add(item, &mut text);
            }
        }
        Some(text)
    };

    let protein = round1(rng.between(profile.protein_g));
    let mut fat = round1(rng.between(profile.fat_g));
    let mut carbohydrates = round1(rng.between(profile.carbohydrates_g));
    let fiber = round1(rng.between(profile.fiber_g));
    // 100 g cannot hold more than 100 g of nutrients: scale down the two largest when a draw overshoots.
    let total = protein + fat + carbohydrates + fiber;
    if total > 98.0 {
        let scale = (98.0 - protein - fiber).max(0.0) / (fat + carbohydrates).max(f64::EPSILON);
        fat = round1(fat * scale);
        carbohydrates = round1(carbohydrates * scale);
    }
    let alcohol = profile.alcohol_percent_vol.map(|r| round1(rng.between(r)));
    // Atwater factors: 4 kcal/g protein and carbohydrate, 9 fat, 2 fibre, 7 alcohol (g = % vol × 0.789).
    let energy = 4.0 * protein
        + 9.0 * fat
        + 4.0 * carbohydrates
        + 2.0 * fiber
        + 7.0 * alcohol.unwrap_or(0.0) * 0.789;
    // Not every label gives every nutrient: unknown stays unknown.
    let detailed = rng.chance(0.6);
    let nutrients = NutrientsPer100g {
        energy_kcal: Some(energy.round().min(900.0)),
        protein_g: Some(protein),
        fat_g: Some(fat),
        saturated_fat_g: Some(round1(fat * rng.between(profile.saturated_share))),
        trans_fat_g: detailed.then_some(0.0),
        cholesterol_mg: detailed.then(|| rng.between(profile.cholesterol_mg).round()),
        carbohydrates_g: Some(carbohydrates),
        sugars_g: Some(round1(carbohydrates * rng.between(profile.sugar_share))),
        starch_g: None,
        fiber_g: Some(fiber),
        sodium_mg: Some(rng.between(profile.sodium_mg).round()),
        potassium_mg: detailed.then(|| rng.between(profile.potassium_mg).round()),
        phosphorus_mg: None,
        iodine_ug: None,
        caffeine_mg: profile.caffeine_mg.map(|r| rng.between(r).round()),
        alcohol_percent_vol: alcohol,
    };

    let labels: Vec<String> = profile
        .labels
        .iter()
        .filter(|_| rng.chance(0.3))
        .map(|l| (*l).to_owned())
        .collect();
    let traces: Vec<String> = profile
        .traces
        .iter()
        .filter(|_| rng.chance(0.4))
        .map(|t| (*t).to_owned())
        .collect();
    let barcode = if fresh && rng.chance(0.8) {
        None
    } else {
        let payload = (n.wrapping_mul(BARCODE_MULTIPLIER) % MAX_UNIQUE_BARCODES + offset)
            % MAX_UNIQUE_BARCODES;
        Gtin::from_payload(&format!("29{payload:010}"))
            .ok()
            .map(|g| g.as_str().to_owned())
    };

    let fields = FoodFields {
        food_code: Some(format!("gen:{seed}:{n}")),
        barcode,
        name,
        brand: brand.map(str::to_owned),
        country: rng.pick(COUNTRIES).map(|c| (*c).to_owned()),
        category_main: Some(profile.main.to_owned()),
        category_sub: Some(profile.sub.to_owned()),
        kind: Some(profile.kind),
        serving_size_g: Some(rng.between(profile.serving_g).round().max(1.0)),
        ingredients_text,
        allergens: profile.allergens.iter().map(|a| (*a).to_owned()).collect(),
        traces,
        labels,
        storage_notes: Some(profile.storage.to_owned()),
        nutrients,
    };
    // Every profile value is in range, so this holds; a profile mistake drops the food rather than panics,
    // and the tests count foods to catch it.
    FoodDraft::new(fields, FoodSource::Generated).ok()
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::{BTreeMap, HashSet};

    use diningcoach_dietary::DietCatalog;

    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_foods() {
        let a: Vec<FoodDraft> = generate(42, 500).collect();
        let b: Vec<FoodDraft> = generate(42, 500).collect();
        assert_eq!(a, b);
        let c: Vec<FoodDraft> = generate(43, 500).collect();
        assert_ne!(a, c);
        // Food n does not depend on the count.
        assert_eq!(generate(42, 10).collect::<Vec<_>>(), a[..10]);
    }

    #[test]
    fn every_food_is_valid_with_a_unique_barcode() {
        let foods: Vec<FoodDraft> = generate(7, 20_000).collect();
        assert_eq!(foods.len(), 20_000, "a profile makes invalid foods");
        let mut barcodes = HashSet::new();
        let mut codes = HashSet::new();
        for food in &foods {
            if let Some(gtin) = food.gtin() {
                assert!(barcodes.insert(gtin), "duplicate {gtin}");
                assert!(gtin.as_str().starts_with("029"), "{gtin}");
            }
            assert!(codes.insert(food.code().unwrap().clone()));
            let n = food.nutrients();
            let grams = n.protein_g.unwrap() + n.fat_g.unwrap() + n.carbohydrates_g.unwrap();
            assert!(grams <= 100.0, "{}: {grams}", food.name());
            assert!(n.saturated_fat_g <= n.fat_g);
            assert!(n.sugars_g <= n.carbohydrates_g);
        }
        assert!(barcodes.len() > 15_000);
        let categories: HashSet<&str> = foods
            .iter()
            .filter_map(|f| f.category().and_then(|c| c.sub()))
            .collect();
        assert_eq!(categories.len(), PROFILES.len());
    }

    #[test]
    fn the_analyser_understands_the_ingredient_lists() {
        let catalog = DietCatalog::load().unwrap();
        let mut unrecognised: BTreeMap<String, usize> = BTreeMap::new();
        let foods: Vec<FoodDraft> = generate(1, 3_000).collect();
        let mut clean = 0;
        for food in &foods {
            let analysis = catalog.analyse(&food.facts());
            assert!(analysis.ingredients_declared);
            if analysis.unrecognised.is_empty() {
                clean += 1;
            }
            for item in analysis.unrecognised {
                *unrecognised.entry(item).or_default() += 1;
            }
        }
        assert!(
            clean * 100 >= foods.len() * 99,
            "{clean} of {} fully recognised; unrecognised: {unrecognised:?}",
            foods.len()
        );
    }

    #[test]
    fn the_generator_is_stable_across_versions() {
        // Pins the PRNG: a change here changes every benchmark dataset, so it must be deliberate.
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }
}
