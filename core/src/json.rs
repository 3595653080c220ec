//! JSON text of a `serde_json::Value` or a `wire` struct, written straight into a buffer.
//!
//! `Value::to_string()` goes through `Display`, which serde_json writes through a
//! `fmt::Formatter` adapter: every string piece is a formatting call and the `String`
//! grows from empty. Under callgrind that was a tenth of a create's server work
//! (243 `serialize_str` and 112 buffer regrowths per request).

use serde_json::Value;

/// The same text as `serde_json::to_string(v)` (for a `Value`, `v.to_string()`).
pub fn text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let mut buf = Vec::with_capacity(512);
    match serde_json::to_writer(&mut buf, v) {
        // serde_json writes UTF-8 only
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        // a Value or a wire struct cannot fail to serialize (their map keys are
        // strings); empty text is what the event log reads as `{}`
        Err(e) => {
            tracing::error!(error = %e, "a JSON object failed to serialize");
            String::new()
        }
    }
}

/// A stored JSON object's members, unparsed (later members win, as in a map).
/// A list and not a map: a user object's dozen keys are found faster by comparing
/// than by hashing (SipHash inserts were a tenth of a membership PATCH's work).
pub(crate) struct RawFields<'a>(pub(crate) Vec<(&'a str, &'a serde_json::value::RawValue)>);

impl<'a> RawFields<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a serde_json::value::RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawFields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = RawFields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(16));
                while let Some(kv) = m.next_entry::<&'de str, &'de serde_json::value::RawValue>()? {
                    out.push(kv);
                }
                Ok(RawFields(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// `s` as a JSON string, as serde_json writes it (it escapes `"`, `\\` and control
/// characters only): quoted as it is when nothing needs escaping.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_string(&mut out, s);
    out
}

/// [`string`], appended to `out`.
pub fn push_string(out: &mut String, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(&Value::String(s.to_string()).to_string());
        return;
    }
    out.push('"');
    out.push_str(s);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_display() {
        for v in [
            json!(null),
            json!({"a": [1, 2.5, "x\"\u{1}é"], "b": {"c": true}, "": -0.0}),
            json!("😀"),
            json!([]),
        ] {
            assert_eq!(text(&v), v.to_string());
        }
    }
}
