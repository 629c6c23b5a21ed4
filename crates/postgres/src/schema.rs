// @generated automatically by Diesel CLI.

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
    scheduled_runs (task, period_start) {
        task -> Text,
        period_start -> Timestamptz,
        claimed_by -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(outbox, processed_jobs, scheduled_runs,);
