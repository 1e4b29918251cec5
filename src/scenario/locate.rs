//! Finding where a field is in the YAML text, for error messages.
//!
//! The loader checks a parsed `serde_yaml::Value`, which has no positions. When
//! it finds a problem at a path like `topics[0].config.min.insync.replicas`,
//! this module walks the text again with serde and stops with an error exactly
//! at that value: the YAML library then reports its line and column.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the document, printed as `topics[0].config.acks`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    pub fn parent(&self) -> Path {
        let mut p = self.clone();
        p.0.pop();
        p
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

const MARK: &str = "streamsim-locate-mark";

struct Locate<'a>(&'a [Seg]);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.is_empty() {
            // Make the YAML library say where this value is.
            return d.deserialize_any(Here);
        }
        d.deserialize_any(LocateVisitor(self.0))
    }
}

/// Fails at the first scalar of a value (a mapping's first key, a list's first
/// item): scalars carry a position, collections may not.
struct Here;

impl<'de> DeserializeSeed<'de> for Here {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Here)
    }
}

impl<'de> Visitor<'de> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        map.next_key_seed(Here)?;
        Err(de::Error::custom(MARK))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        seq.next_element_seed(Here)?;
        Err(de::Error::custom(MARK))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(MARK))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(MARK))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(MARK))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(MARK))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(MARK))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(MARK))
    }
}

struct LocateVisitor<'a>(&'a [Seg]);

impl<'de> Visitor<'de> for LocateVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            let hit = match (&self.0[0], &key) {
                (Seg::Key(want), serde_yaml::Value::String(k)) => want == k,
                (Seg::Key(want), other) => scalar_text(other).is_some_and(|t| &t == want),
                _ => false,
            };
            if hit {
                map.next_value_seed(Locate(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let found = if self.0[0] == Seg::Index(i) {
                seq.next_element_seed(Locate(&self.0[1..]))?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if found.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The text of a scalar key or value.
pub fn scalar_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Line and column (1-based) of the value at `path`, or of the nearest
/// ancestor that can be found; (1, 1) for the whole document.
pub fn locate(source: &str, path: &Path) -> (usize, usize) {
    let mut p = path.clone();
    loop {
        if p.0.is_empty() {
            return (1, 1);
        }
        {
            let candidate = p.clone();
            let de = serde_yaml::Deserializer::from_str(source);
            if let Err(e) = Locate(&candidate.0).deserialize(de) {
                if e.to_string().contains(MARK) {
                    if let Some(loc) = e.location() {
                        return (loc.line(), loc.column());
                    }
                }
            }
        }
        p = p.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let src = "name: x\ntopics:\n  - name: a\n    config:\n      min.insync.replicas: 5\nfaults:\n  - { at: 3s, crash: b }\n";
        let p = Path::default().key("topics").index(0).key("config").key("min.insync.replicas");
        assert_eq!(p.to_string(), "topics[0].config.min.insync.replicas");
        assert_eq!(locate(src, &p), (5, 28), "points at the value");
        let f = Path::default().key("faults").index(0).key("crash");
        assert_eq!(locate(src, &f).0, 7);
        let missing = Path::default().key("topics").index(3);
        assert_eq!(locate(src, &missing).0, 3, "falls back to the list's first item");
    }
}
