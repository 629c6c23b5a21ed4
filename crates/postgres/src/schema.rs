// @generated automatically by Diesel CLI.

diesel::table! {
    catalog_imports (id) {
        id -> Uuid,
        requested_by -> Nullable<Uuid>,
        format -> Text,
        file_name -> Text,
        file_path -> Text,
        file_bytes -> Int8,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        status -> Text,
        rows_committed -> Int8,
        bytes_committed -> Int8,
        report -> Jsonb,
        failure -> Nullable<Text>,
        attempts -> Int4,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    food_words (word, food_id) {
        word -> Text,
        food_id -> Uuid,
        shared -> Int2,
        category_main -> Nullable<Text>,
        category_sub -> Nullable<Text>,
    }
}

diesel::table! {
    foods (id) {
        id -> Uuid,
        food_code -> Text,
        barcode -> Nullable<Text>,
        natural_key -> Text,
        kind -> Text,
        source -> Text,
        name -> Text,
        search_name -> Text,
        brand -> Nullable<Text>,
        search_brand -> Nullable<Text>,
        search_text -> Text,
        country -> Nullable<Text>,
        category_main -> Nullable<Text>,
        category_sub -> Nullable<Text>,
        serving_size_g -> Nullable<Float8>,
        energy_kcal -> Nullable<Float8>,
        protein_g -> Nullable<Float8>,
        fat_g -> Nullable<Float8>,
        saturated_fat_g -> Nullable<Float8>,
        trans_fat_g -> Nullable<Float8>,
        cholesterol_mg -> Nullable<Float8>,
        carbohydrates_g -> Nullable<Float8>,
        sugars_g -> Nullable<Float8>,
        starch_g -> Nullable<Float8>,
        fiber_g -> Nullable<Float8>,
        sodium_mg -> Nullable<Float8>,
        potassium_mg -> Nullable<Float8>,
        phosphorus_mg -> Nullable<Float8>,
        iodine_ug -> Nullable<Float8>,
        caffeine_mg -> Nullable<Float8>,
        alcohol_percent_vol -> Nullable<Float8>,
        ingredients_text -> Nullable<Text>,
        allergens -> Array<Nullable<Text>>,
        traces -> Array<Nullable<Text>>,
        labels -> Array<Nullable<Text>>,
        storage_notes -> Nullable<Text>,
        analysis_version -> Int4,
        dietary_tags -> Array<Nullable<Text>>,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        analysis_summary -> Text,
    }
}

diesel::table! {
    health_profiles (user_id) {
        user_id -> Uuid,
        conditions -> Array<Nullable<Text>>,
        diets -> Jsonb,
        allergens -> Array<Nullable<Text>>,
        pregnant -> Bool,
        notes -> Nullable<Text>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        user_id -> Uuid,
        failed_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        kind -> Text,
        version -> Int2,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    processed_jobs (job_id) {
        job_id -> Uuid,
        kind -> Text,
        processed_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        family_expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    scheduled_runs (task, period_start) {
        task -> Text,
        period_start -> Timestamptz,
        claimed_by -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    search_words (word) {
        word -> Text,
    }
}

diesel::table! {
    user_profiles (user_id) {
        user_id -> Uuid,
        birth_year -> Nullable<Int2>,
        sex -> Nullable<Text>,
        height_cm -> Nullable<Float8>,
        weight_kg -> Nullable<Float8>,
        activity_level -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        nickname -> Text,
        password_hash -> Text,
        role -> Text,
        email_verified_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(catalog_imports -> users (requested_by));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(food_words -> foods (food_id));
diesel::joinable!(foods -> users (created_by));
diesel::joinable!(health_profiles -> users (user_id));
diesel::joinable!(login_failures -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(user_profiles -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    catalog_imports,
    email_tokens,
    food_words,
    foods,
    health_profiles,
    login_failures,
    outbox,
    processed_jobs,
    refresh_tokens,
    scheduled_runs,
    search_words,
    user_profiles,
    users,
);
