-- Trigram indexes serve substring and misspelling search (`LIKE '%q%'`, `q <% text`).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The food catalog. Nutrients are per 100 g and nullable: unknown is not zero. `search_name` and `search_brand`
-- hold the text normalised by the application (lower case, accents folded, punctuation to spaces); queries are
-- normalised the same way and compared as they are, in the "C" collation, so that b-tree indexes serve prefix
-- ranges and ORDER BY alike.
CREATE TABLE foods (
    id                  uuid             PRIMARY KEY,
    food_code           text             NOT NULL,
    barcode             text             CHECK (barcode ~ '^[0-9]{14}$'),
    -- A food is the same food as another when it has the same barcode, or, without one, the same code: imports
    -- upsert on this key.
    natural_key         text             NOT NULL GENERATED ALWAYS AS (coalesce('gtin:' || barcode, 'code:' || food_code)) STORED,
    kind                text             NOT NULL CHECK (kind IN ('processed', 'fresh', 'cooked', 'user_submitted')),
    source              text             NOT NULL CHECK (source IN ('import', 'user', 'generated')),
    name                text             NOT NULL,
    search_name         text COLLATE "C" NOT NULL,
    brand               text,
    search_brand        text COLLATE "C",
    -- Name and brand together: what substring and misspelling search look into.
    search_text         text COLLATE "C" NOT NULL GENERATED ALWAYS AS (search_name || coalesce(' ' || search_brand, '')) STORED,
    country             text,
    category_main       text,
    category_sub        text,
    serving_size_g      double precision,
    energy_kcal         double precision,
    protein_g           double precision,
    fat_g               double precision,
    saturated_fat_g     double precision,
    trans_fat_g         double precision,
    cholesterol_mg      double precision,
    carbohydrates_g     double precision,
    sugars_g            double precision,
    starch_g            double precision,
    fiber_g             double precision,
    sodium_mg           double precision,
    potassium_mg        double precision,
    phosphorus_mg       double precision,
    iodine_ug           double precision,
    caffeine_mg         double precision,
    alcohol_percent_vol double precision,
    ingredients_text    text,
    allergens           text[]           NOT NULL DEFAULT '{}',
    traces              text[]           NOT NULL DEFAULT '{}',
    labels              text[]           NOT NULL DEFAULT '{}',
    storage_notes       text,
    -- The dietary engine's user-independent facts (JSON, read by the application only: text costs the bulk
    -- import nothing to store, where jsonb's conversion halved its speed), and their tags for SQL filtering
    -- ("only what I can eat"; nutrient limits use the columns above).
    analysis            text             NOT NULL,
    analysis_version    integer          NOT NULL,
    dietary_tags        text[]           NOT NULL DEFAULT '{}',
    created_by          uuid             REFERENCES users (id) ON DELETE SET NULL,
    version             integer          NOT NULL DEFAULT 1,
    created_at          timestamptz      NOT NULL DEFAULT now(),
    updated_at          timestamptz      NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX foods_natural_key_idx ON foods (natural_key);
CREATE UNIQUE INDEX foods_barcode_idx ON foods (barcode) WHERE barcode IS NOT NULL;
CREATE INDEX foods_food_code_idx ON foods (food_code);
-- Exact and prefix matches, in result order; also the only path for 1–2 character queries (no trigram).
CREATE INDEX foods_search_name_idx ON foods (search_name, id);
-- Brand prefix matches for short queries, in result order (brand, then name).
CREATE INDEX foods_brand_key_idx ON foods ((search_brand || ' ' || search_name), id) WHERE search_brand IS NOT NULL;
-- Substring and misspelling matches anywhere in the name or brand.
CREATE INDEX foods_search_text_trgm_idx ON foods USING gin (search_text gin_trgm_ops);
CREATE INDEX foods_created_by_idx ON foods (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX foods_category_idx ON foods (category_main, category_sub);
CREATE INDEX foods_dietary_tags_idx ON foods USING gin (dietary_tags);
-- The background re-analysis finds stale rows without a scan.
CREATE INDEX foods_stale_analysis_idx ON foods (analysis_version, id);

-- Word starts of the search text (name and brand): for "strawberry yogurt fjord fresh", the rows "yogurt fjord
-- fresh", "fjord fresh" and "fresh" (the first word is the name's own prefix, served by foods_search_name_idx),
-- cut to 32 characters. A prefix range on this b-tree finds the foods with a word starting with the query already
-- in result order, however many there are: a filter over the name index or a trigram bitmap cannot, once a word
-- is common. Kept by the triggers below, whatever writes the foods.
CREATE TABLE food_words (
    word    text COLLATE "C" NOT NULL,
    food_id uuid             NOT NULL REFERENCES foods (id) ON DELETE CASCADE,
    PRIMARY KEY (word, food_id)
);
CREATE INDEX food_words_food_idx ON food_words (food_id, word);

CREATE FUNCTION food_word_starts(search_text text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT DISTINCT left(array_to_string(words[i:], ' '), 32)
    FROM (SELECT string_to_array(search_text, ' ') AS words) AS split,
         generate_subscripts(words, 1) AS i
    WHERE i > 1 AND words[i] <> ''
$$;

CREATE FUNCTION foods_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO food_words (word, food_id)
    SELECT w.word, n.id FROM new_foods AS n, food_word_starts(n.search_text) AS w(word);
    RETURN NULL;
END
$$;

CREATE FUNCTION foods_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM food_words AS w
    USING old_foods AS o JOIN new_foods AS n ON n.id = o.id
    WHERE w.food_id = o.id AND o.search_text IS DISTINCT FROM n.search_text;
    INSERT INTO food_words (word, food_id)
    SELECT w.word, n.id
    FROM old_foods AS o JOIN new_foods AS n ON n.id = o.id, food_word_starts(n.search_text) AS w(word)
    WHERE o.search_text IS DISTINCT FROM n.search_text;
    RETURN NULL;
END
$$;

-- Statement triggers with transition tables: one set-based statement per batch, not one call per row.
CREATE TRIGGER foods_words_on_insert AFTER INSERT ON foods
    REFERENCING NEW TABLE AS new_foods FOR EACH STATEMENT EXECUTE FUNCTION foods_words_inserted();
CREATE TRIGGER foods_words_on_update AFTER UPDATE ON foods
    REFERENCING OLD TABLE AS old_foods NEW TABLE AS new_foods FOR EACH STATEMENT EXECUTE FUNCTION foods_words_updated();
