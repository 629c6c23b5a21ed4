//! How a job travels: its body, its AMQP properties and the headers that carry its history (attempt, why it was
//! parked, where it came from).

use diningcoach_kernel::Job;
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use crate::RabbitError;

/// Which delivery of the job this is, counting from 1. Set to 1 by the publisher and on replay, incremented on
/// each retry; it picks the next retry delay.
pub const ATTEMPT_HEADER: &str = "dc-attempt";
/// Why the job was parked (the handler's reason, or the broker's dead-letter reason).
pub const PARK_REASON_HEADER: &str = "dc-park-reason";
/// The routing key (job kind) the job was published with, so a replay knows where to send it back.
pub const ROUTING_KEY_HEADER: &str = "dc-routing-key";
/// The last retryable failure, for whoever looks at a message waiting in a retry queue.
pub const LAST_ERROR_HEADER: &str = "dc-last-error";

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
/// Headers are for operators; a very long reason is cut so it cannot exceed frame or header limits.
const MAX_REASON_BYTES: usize = 1000;

/// The body and properties of a freshly published job.
pub(crate) fn encode(job: &Job) -> Result<(Vec<u8>, BasicProperties), RabbitError> {
    let body = serde_json::to_vec(job)
        .map_err(|e| RabbitError::Refused(format!("job does not serialise: {e}")))?;
    let mut headers = FieldTable::default();
    set_attempt(&mut headers, 1);
    headers.insert(ROUTING_KEY_HEADER.into(), long_string(job.kind.as_str()));
    let properties = BasicProperties::default()
        .with_message_id(ShortString::from(job.id.to_string()))
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_timestamp(u64::try_from(job.created_at.timestamp()).unwrap_or(0))
        .with_headers(headers);
    Ok((body, properties))
}

/// The attempt number a delivery carries; a message without the header (published by something else) is on its
/// first attempt.
pub(crate) fn attempt(properties: &BasicProperties) -> u32 {
    properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(ATTEMPT_HEADER))
        .and_then(as_u32)
        .unwrap_or(1)
}

pub(crate) fn header_text(properties: &BasicProperties, name: &str) -> Option<String> {
    let headers = properties.headers().as_ref()?;
    as_text(headers.inner().get(name)?)
}

/// Why the broker dead-lettered a message (e.g. `delivery_limit` when a worker crashed on it too often).
/// The latest death is the first entry of `x-death`; `x-first-death-reason` would name the first one, which for a
/// job that went through the retry queues is their TTL expiry.
pub(crate) fn broker_death_reason(properties: &BasicProperties) -> Option<String> {
    let latest = properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get("x-death"))
        .and_then(|deaths| match deaths {
            AMQPValue::FieldArray(deaths) => deaths.as_slice().first().cloned(),
            _ => None,
        })
        .and_then(|death| match death {
            AMQPValue::FieldTable(death) => death.inner().get("reason").and_then(as_text),
            _ => None,
        });
    latest
        .or_else(|| header_text(properties, "x-first-death-reason"))
        .map(|reason| format!("dead-lettered by the broker: {reason}"))
}

/// The same message with its headers changed; message id, content type and persistence are kept.
pub(crate) fn with_headers(
    properties: &BasicProperties,
    change: impl FnOnce(&mut FieldTable),
) -> BasicProperties {
    let mut headers = properties.headers().clone().unwrap_or_default();
    change(&mut headers);
    properties
        .clone()
        .with_delivery_mode(PERSISTENT)
        .with_headers(headers)
}

pub(crate) fn set_attempt(headers: &mut FieldTable, attempt: u32) {
    headers.insert(
        ATTEMPT_HEADER.into(),
        AMQPValue::LongLongInt(i64::from(attempt)),
    );
}

pub(crate) fn set_text(headers: &mut FieldTable, name: &str, text: &str) {
    let mut end = text.len().min(MAX_REASON_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    headers.insert(name.into(), long_string(&text[..end]));
}

/// Drops the headers that describe a past life in the parking queue or the broker's dead-lettering, for a replay.
pub(crate) fn clear_history(headers: &FieldTable) -> FieldTable {
    let kept = headers
        .inner()
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name != PARK_REASON_HEADER
                && name != LAST_ERROR_HEADER
                && !name.starts_with("x-death")
                && !name.starts_with("x-first-death")
                && !name.starts_with("x-last-death")
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect::<std::collections::BTreeMap<_, _>>();
    FieldTable::from(kept)
}

fn long_string(text: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(text))
}

fn as_text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into_owned()),
        AMQPValue::ShortString(text) => Some(text.as_str().to_owned()),
        _ => None,
    }
}

fn as_u32(value: &AMQPValue) -> Option<u32> {
    let number = match value {
        AMQPValue::ShortShortInt(n) => i64::from(*n),
        AMQPValue::ShortShortUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        _ => return None,
    };
    u32::try_from(number).ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use diningcoach_kernel::{JobId, JobKind};

    use super::*;

    #[test]
    fn a_published_job_is_persistent_json_on_its_first_attempt() {
        let job = Job {
            id: JobId::generate(),
            kind: JobKind::DiaryRollup,
            version: 1,
            created_at: Utc::now(),
            payload: serde_json::json!({"day": "2026-11-23"}),
        };
        let Ok((body, properties)) = encode(&job) else {
            panic!("encode")
        };
        let decoded: Result<Job, _> = serde_json::from_slice(&body);
        assert_eq!(decoded.ok(), Some(job.clone()));
        assert_eq!(
            properties
                .message_id()
                .as_ref()
                .map(|id| id.as_str().to_owned()),
            Some(job.id.to_string())
        );
        assert_eq!(properties.delivery_mode(), &Some(PERSISTENT));
        assert_eq!(attempt(&properties), 1);
        assert_eq!(
            header_text(&properties, ROUTING_KEY_HEADER).as_deref(),
            Some("diary.rollup")
        );

        let retried = with_headers(&properties, |headers| {
            set_attempt(headers, 3);
            set_text(headers, PARK_REASON_HEADER, &"é".repeat(2000));
        });
        assert_eq!(attempt(&retried), 3);
        assert!(
            header_text(&retried, PARK_REASON_HEADER)
                .is_some_and(|reason| reason.len() <= MAX_REASON_BYTES)
        );
        let cleared = clear_history(retried.headers().as_ref().unwrap_or(&FieldTable::default()));
        assert!(!cleared.contains_key(PARK_REASON_HEADER));
        assert!(cleared.contains_key(ATTEMPT_HEADER));
    }

    #[test]
    fn the_latest_broker_death_explains_a_parked_message() {
        let death = |reason: &str| {
            let mut entry = FieldTable::default();
            entry.insert("reason".into(), long_string(reason));
            AMQPValue::FieldTable(entry)
        };
        let mut headers = FieldTable::default();
        headers.insert("x-first-death-reason".into(), long_string("expired"));
        headers.insert(
            "x-death".into(),
            AMQPValue::FieldArray(vec![death("delivery_limit"), death("expired")].into()),
        );
        let properties = BasicProperties::default().with_headers(headers);
        assert_eq!(
            broker_death_reason(&properties).as_deref(),
            Some("dead-lettered by the broker: delivery_limit")
        );
        assert_eq!(broker_death_reason(&BasicProperties::default()), None);
    }
}
