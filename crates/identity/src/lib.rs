//! DiningCoach identity domain: accounts, credentials, sessions and profiles. Filled in by the identity issue.
