//! Typed ids. Each entity gets its own id type so that a `MealId` can never be passed where a `UserId` is meant.
//! Ids are UUIDv7: time-ordered, so they index well and give keyset pagination a stable order.

/// Declares a typed id wrapping a UUID.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($crate::__private::uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self($crate::__private::uuid::Uuid::now_v7())
            }

            pub const fn from_uuid(id: $crate::__private::uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> $crate::__private::uuid::Uuid {
                self.0
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::__private::uuid::Uuid::deserialize(deserializer).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::KernelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::__private::uuid::Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| $crate::KernelError::InvalidId(s.chars().take(64).collect()))
            }
        }

        impl From<$name> for $crate::__private::uuid::Uuid {
            fn from(id: $name) -> $crate::__private::uuid::Uuid {
                id.0
            }
        }
    };
}

typed_id!(
    /// Identifies a job, and so the message that carries it: consumers de-duplicate on it.
    JobId
);

typed_id!(
    /// Identifies an account. In the kernel because every domain refers to users (meals, posts, verdicts).
    UserId
);

#[cfg(test)]
mod tests {
    use crate::id::JobId;

    #[test]
    fn ids_round_trip_through_text_and_sort_by_creation_time() {
        let first = JobId::generate();
        let second = JobId::generate();
        assert!(first < second);
        let parsed: JobId = first
            .to_string()
            .parse()
            .unwrap_or_else(|_| panic!("parse"));
        assert_eq!(parsed, first);
        assert!("not-a-uuid".parse::<JobId>().is_err());
    }
}
