//! Tolerant deserializers: real payloads carry `null`s where fields are optional and
//! disagree on whether some numbers are numbers or strings.

use serde::{Deserialize, Deserializer};

/// `null` (or an absent field, with `#[serde(default)]`) becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(serde_json::Number),
    Str(String),
    Bool(bool),
}

/// A string field that some payloads send as a number (`ip_location_zip`).
pub(crate) fn opt_string_lenient<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None => None,
        Some(NumOrStr::Num(n)) => Some(n.to_string()),
        Some(NumOrStr::Str(s)) => Some(s),
        Some(NumOrStr::Bool(b)) => Some(b.to_string()),
    })
}

/// A number field that some payloads send as a string (`ip_location_longitude`).
/// A string that is not a number decodes as `None` rather than failing the whole payload.
pub(crate) fn opt_f64_lenient<'de, D>(d: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None | Some(NumOrStr::Bool(_)) => None,
        Some(NumOrStr::Num(n)) => n.as_f64(),
        Some(NumOrStr::Str(s)) => s.trim().parse::<f64>().ok(),
    })
}

/// A count that may arrive as an integer, a float or a string.
pub(crate) fn opt_u64_lenient<'de, D>(d: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_f64_lenient(d)?.and_then(|f| {
        if f.is_finite() && f >= 0.0 {
            // Counts are small; a fractional count is rounded, a negative one dropped.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked to fit before the cast"
            )]
            Some(f.round() as u64)
        } else {
            None
        }
    }))
}

/// An epoch-milliseconds timestamp that may arrive as a number or a string.
pub(crate) fn opt_i64_lenient<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None | Some(NumOrStr::Bool(_)) => None,
        Some(NumOrStr::Num(n)) => n.as_i64().or_else(|| {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "checked to fit before the cast"
            )]
            n.as_f64().map(|f| f as i64)
        }),
        Some(NumOrStr::Str(s)) => s.trim().parse::<i64>().ok(),
    })
}

/// A boolean that may be `null`.
pub(crate) fn opt_bool_lenient<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        Some(NumOrStr::Bool(b)) => Some(b),
        Some(NumOrStr::Str(s)) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        Some(NumOrStr::Num(n)) => n.as_u64().map(|v| v != 0),
        None => None,
    })
}

/// A list whose elements may be `null` or of an unexpected shape: those elements are
/// skipped instead of failing the whole payload. `null` (or an absent field, with
/// `#[serde(default)]`) is an empty list.
pub(crate) fn vec_skip_invalid<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let items = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(items
        .into_iter()
        .filter(|v| !v.is_null())
        .filter_map(|v| T::deserialize(v).ok())
        .collect())
}

/// An echoed value that is not needed to decide: one that does not decode is `None` (logged at
/// DEBUG), never a reason to lose the answer around it.
pub(crate) fn opt_or_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.filter(|v| !v.is_null()).and_then(|v| {
        serde_json::from_value(v)
            .map_err(|e| tracing::debug!(error = %e, "an echoed field did not decode; left out"))
            .ok()
    }))
}

/// Echoed custom attributes: entries whose value is not a string, number or boolean
/// (`null`, an object, a list) are dropped instead of failing the whole payload; a value
/// that is not an object at all decodes as `None`.
pub(crate) fn opt_attributes_lenient<'de, D>(
    d: D,
) -> Result<Option<super::action::CustomAttributes>, D::Error>
where
    D: Deserializer<'de>,
{
    use super::action::AttributeValue;
    let Some(serde_json::Value::Object(map)) = Option::<serde_json::Value>::deserialize(d)? else {
        return Ok(None);
    };
    Ok(Some(
        map.into_iter()
            .filter_map(|(name, value)| {
                let value = match value {
                    serde_json::Value::Bool(b) => AttributeValue::Bool(b),
                    serde_json::Value::Number(n) => AttributeValue::Number(n),
                    serde_json::Value::String(s) => AttributeValue::String(s),
                    _ => return None,
                };
                Some((name, value))
            })
            .collect(),
    ))
}

/// A list of records (rules) where one record that does not decode (e.g. a mode this version
/// does not know) is skipped with a `WARN` event instead of failing the whole list.
pub(crate) fn vec_skip_undecodable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let items = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(items
        .into_iter()
        .filter(|v| !v.is_null())
        .filter_map(|v| {
            let id = v
                .get("id")
                .or_else(|| v.get("rule_id"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            match T::deserialize(v) {
                Ok(item) => Some(item),
                Err(e) => {
                    tracing::warn!(
                        id = id.as_deref().unwrap_or(""),
                        error = %e,
                        "skipping a listed rule this version cannot decode"
                    );
                    None
                }
            }
        })
        .collect())
}

/// Decodes a string enum case-insensitively: `$name` has unit variants matched against
/// `$wire` names ignoring ASCII case.
macro_rules! case_insensitive_enum {
    ($name:ident { $( $variant:ident => $wire:literal ),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const VARIANTS: &[&str] = &[$( $wire ),+];
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                let s = s.trim();
                $( if s.eq_ignore_ascii_case($wire) { return Ok(Self::$variant); } )+
                Err(<D::Error as serde::de::Error>::unknown_variant(s, VARIANTS))
            }
        }
    };
}

pub(crate) use case_insensitive_enum;

/// Defines an "open" string enum: known variants plus `Other(String)` for values this
/// version does not know yet. Decoding never fails on an unknown value, and
/// `Other` round-trips the original string.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s.as_str(),
                }
            }

            /// The wire value of a known variant, as a `&'static str` (no copy needed to keep
            /// it, e.g. as a metrics label); `None` for [`Self::Other`].
            pub fn known_str(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($wire), )+
                    Self::Other(_) => None,
                }
            }

            /// Every known variant, in documentation order.
            pub const KNOWN: &'static [$name] = &[$( $name::$variant, )+];

            /// Whether this is a value this crate knows (not [`Self::Other`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::Other(s) => write!(f, "{}::Other({:?})", stringify!($name), s),
                    known => f.write_str(known.as_str()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}

pub(crate) use open_enum;
