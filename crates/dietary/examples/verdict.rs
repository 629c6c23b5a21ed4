//! Prints the analysis and verdicts of an ingredient list given on the command line:
//! `cargo run -p diningcoach-dietary --example verdict -- "Sugar, gelatine, milk. May contain nuts."`

use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfileInput, DietSelection, FoodFacts, evaluate,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = DietCatalog::load()?;
    let text = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let facts = FoodFacts {
        ingredients_text: Some(text),
        ..FoodFacts::default()
    };
    let analysis = catalog.analyse(&facts);
    for ingredient in &analysis.ingredients {
        println!(
            "{:indent$}{} {:?} -> {:?} is={:?} maybe={:?} recognised={}",
            "",
            ingredient.parsed.text,
            ingredient.parsed.section,
            ingredient.matched,
            ingredient.is.codes(),
            ingredient.maybe.codes(),
            ingredient.recognised,
            indent = usize::from(ingredient.parsed.depth) * 2
        );
    }
    for diet in catalog.diets() {
        let input = DietProfileInput {
            diets: vec![DietSelection {
                code: diet.code.clone(),
                params: Default::default(),
            }],
            ..DietProfileInput::default()
        };
        let profile = catalog.profile(&input)?;
        let verdict = evaluate(&analysis, &profile, &DayIntake::default());
        println!("{:>16}: {:?}", diet.code, verdict.level);
        for reason in verdict.reasons.iter().take(3) {
            println!("{:>18} {:?} {}", "", reason.severity, reason.message());
        }
    }
    Ok(())
}
