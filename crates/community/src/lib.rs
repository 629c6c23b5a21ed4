//! DiningCoach community domain. The model, rules and ports arrive with the community issue; the crate exists now so that its
//! place in the dependency graph (kernel ← domain ← adapters ← bins) is fixed and checked from the start.
