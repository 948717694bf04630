//! Tolerant deserializers: real payloads carry `null`s where fields are optional and
//! disagree on whether some numbers are numbers or strings.

use serde::{Deserialize, Deserializer};

/// `body` decoded whole as `T` (which may borrow from it), or `None`. A body that is UTF-8 (as
/// every JSON answer is) is checked once and decoded as text, so that its strings are not
/// checked one by one: for a recommendation that is a sixth of the decoding's instructions.
/// Any other body is decoded as bytes, as before: its stray bytes may sit in fields the model
/// skips.
pub(crate) fn whole<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Option<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text).ok(),
        Err(_) => serde_json::from_slice(body).ok(),
    }
}

/// `null` (or an absent field, with `#[serde(default)]`) becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A scalar read as it comes. Decoded by hand (`deserialize_any`), not as an untagged enum:
/// that would buffer every value and build an error for each variant tried first.
enum NumOrStr {
    Num(serde_json::Number),
    Str(String),
    Bool(bool),
}

impl<'de> Deserialize<'de> for NumOrStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Scalar;

        impl serde::de::Visitor<'_> for Scalar {
            type Value = NumOrStr;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, a number or a boolean")
            }

            fn visit_bool<E>(self, v: bool) -> Result<NumOrStr, E> {
                Ok(NumOrStr::Bool(v))
            }

            fn visit_i64<E>(self, v: i64) -> Result<NumOrStr, E> {
                Ok(NumOrStr::Num(v.into()))
            }

            fn visit_u64<E>(self, v: u64) -> Result<NumOrStr, E> {
                Ok(NumOrStr::Num(v.into()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<NumOrStr, E> {
                serde_json::Number::from_f64(v)
                    .map(NumOrStr::Num)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }

            fn visit_str<E>(self, v: &str) -> Result<NumOrStr, E> {
                Ok(NumOrStr::Str(v.to_owned()))
            }

            fn visit_string<E>(self, v: String) -> Result<NumOrStr, E> {
                Ok(NumOrStr::Str(v))
            }
        }

        d.deserialize_any(Scalar)
    }
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

/// A number field that some payloads send as a string (`ip_location_longitude`). An empty
/// string is no value; text that is not a number (or a boolean) is an error, which the
/// tolerant decoder turns into a field set aside and counted, never a silent `None`.
pub(crate) fn opt_f64_lenient<'de, D>(d: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(n.as_f64()),
        Some(NumOrStr::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(NumOrStr::Str(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("text that is not a number")),
        Some(NumOrStr::Bool(_)) => Err(serde::de::Error::custom("a boolean, not a number")),
    }
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

/// An integer (an epoch-milliseconds timestamp, a screen width...) that may arrive as a number
/// or a string. A fractional value is cut to its integer part.
pub(crate) fn opt_i64_lenient<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a float cast saturates; fractions are cut on purpose"
    )]
    let whole = |f: f64| f.is_finite().then_some(f as i64);
    let not_whole = || serde::de::Error::custom("text that is not a whole number");
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(n.as_i64().or_else(|| n.as_f64().and_then(whole))),
        Some(NumOrStr::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(NumOrStr::Str(s)) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(whole))
                .map(Some)
                .ok_or_else(not_whole)
        }
        Some(NumOrStr::Bool(_)) => Err(serde::de::Error::custom("a boolean, not a number")),
    }
}

/// An open enum that may arrive as a number or a boolean: the value is read as its text (see
/// [`open_text`]), so `"action_type": 7` is `Other("7")`, never a failed field. A known value
/// read from a string the input holds as it is costs no allocation.
pub(crate) fn opt_text_lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String> + for<'a> From<&'a str>,
{
    struct Text<'de>(std::borrow::Cow<'de, str>);

    impl<'de> Deserialize<'de> for Text<'de> {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
            open_text(d).map(Text)
        }
    }

    Ok(
        Option::<Text<'de>>::deserialize(d)?.map(|Text(text)| match text {
            std::borrow::Cow::Borrowed(s) => T::from(s),
            std::borrow::Cow::Owned(s) => T::from(s),
        }),
    )
}

/// A list of strings whose elements may be numbers or booleans (read as their text); `null`
/// and other elements are skipped. A single string is a list of one, split at commas (the
/// form of an `X-Forwarded-For` header); `null` or an absent field is an empty list.
pub(crate) fn vec_string_lenient<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<serde_json::Value>),
        One(NumOrStr),
    }
    let text = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::Many(items)) => items.into_iter().filter_map(text).collect(),
        Some(OneOrMany::One(NumOrStr::Str(s))) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(OneOrMany::One(NumOrStr::Num(n))) => vec![n.to_string()],
        Some(OneOrMany::One(NumOrStr::Bool(b))) => vec![b.to_string()],
    })
}

/// A boolean that may be `null`, or arrive as text (`"true"`, `"FALSE"`, `"1"`, `"0"`) or as
/// the number 1 or 0. Anything else is an error (set aside and counted by the tolerant
/// decoder), never a silent `None`.
pub(crate) fn opt_bool_lenient<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    let not_bool = || serde::de::Error::custom("a value that is not a boolean");
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Bool(b)) => Ok(Some(b)),
        Some(NumOrStr::Str(s)) => match s.trim() {
            "" => Ok(None),
            t if t.eq_ignore_ascii_case("true") || t == "1" => Ok(Some(true)),
            t if t.eq_ignore_ascii_case("false") || t == "0" => Ok(Some(false)),
            _ => Err(not_bool()),
        },
        Some(NumOrStr::Num(n)) => match n.as_f64() {
            Some(v) if (v - 1.0).abs() < f64::EPSILON => Ok(Some(true)),
            Some(v) if v.abs() < f64::EPSILON => Ok(Some(false)),
            _ => Err(not_bool()),
        },
    }
}

/// A list whose elements may be `null` or of an unexpected shape: those elements are
/// skipped instead of failing the whole payload. `null` (or an absent field, with
/// `#[serde(default)]`) is an empty list. Read as it streams: a string element (reasons,
/// threats, input methods) is decoded straight from the input; only an element of another
/// shape is buffered, to be tried and dropped if `T` refuses it.
pub(crate) fn vec_skip_invalid<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::value::{CowStrDeserializer, Error as ValueError};
    use serde::de::{SeqAccess, Visitor};
    use std::borrow::Cow;
    use std::marker::PhantomData;

    /// One element: a string as it comes, anything else as a JSON value.
    enum Element<'de> {
        Text(Cow<'de, str>),
        Other(serde_json::Value),
    }

    impl<'de> Deserialize<'de> for Element<'de> {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
            struct ElementVisitor;

            impl<'de> Visitor<'de> for ElementVisitor {
                type Value = Element<'de>;

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("any JSON value")
                }

                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Element<'de>, E> {
                    Ok(Element::Text(Cow::Borrowed(v)))
                }

                fn visit_str<E>(self, v: &str) -> Result<Element<'de>, E> {
                    Ok(Element::Text(Cow::Owned(v.to_owned())))
                }

                fn visit_string<E>(self, v: String) -> Result<Element<'de>, E> {
                    Ok(Element::Text(Cow::Owned(v)))
                }

                fn visit_bool<E>(self, v: bool) -> Result<Element<'de>, E> {
                    Ok(Element::Other(v.into()))
                }

                fn visit_i64<E>(self, v: i64) -> Result<Element<'de>, E> {
                    Ok(Element::Other(v.into()))
                }

                fn visit_u64<E>(self, v: u64) -> Result<Element<'de>, E> {
                    Ok(Element::Other(v.into()))
                }

                fn visit_f64<E>(self, v: f64) -> Result<Element<'de>, E> {
                    Ok(Element::Other(v.into()))
                }

                fn visit_unit<E>(self) -> Result<Element<'de>, E> {
                    Ok(Element::Other(serde_json::Value::Null))
                }

                fn visit_none<E>(self) -> Result<Element<'de>, E> {
                    Ok(Element::Other(serde_json::Value::Null))
                }

                fn visit_some<D3: Deserializer<'de>>(
                    self,
                    d: D3,
                ) -> Result<Element<'de>, D3::Error> {
                    Element::deserialize(d)
                }

                fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element<'de>, A::Error> {
                    serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(
                        seq,
                    ))
                    .map(Element::Other)
                }

                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    map: A,
                ) -> Result<Element<'de>, A::Error> {
                    serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(
                        map,
                    ))
                    .map(Element::Other)
                }
            }

            d.deserialize_any(ElementVisitor)
        }
    }

    struct List<T>(PhantomData<T>);

    impl<'de, T: serde::de::DeserializeOwned> Visitor<'de> for List<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list or null")
        }

        fn visit_none<E>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_unit<E>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Vec<T>, D2::Error> {
            d.deserialize_seq(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(element) = seq.next_element::<Element<'de>>()? {
                let item = match element {
                    Element::Text(text) => {
                        T::deserialize(CowStrDeserializer::<ValueError>::new(text)).ok()
                    }
                    Element::Other(serde_json::Value::Null) => None,
                    Element::Other(value) => T::deserialize(value).ok(),
                };
                items.extend(item);
            }
            Ok(items)
        }
    }

    d.deserialize_option(List(PhantomData))
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
                    crate::telemetry::rule_skipped();
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

/// The text of an open enum's value that may come as any JSON scalar: a string (borrowed when
/// it can be), or a number or a boolean read as its text, so that a rule's `"op": 1` is an
/// operator this version does not know, never a rule lost (and see [`opt_text_lenient`]). Not
/// used for a recommendation's `type`, where a number is an unreadable decision.
pub(crate) fn open_text<'de, D>(d: D) -> Result<std::borrow::Cow<'de, str>, D::Error>
where
    D: Deserializer<'de>,
{
    use std::borrow::Cow;

    struct Text;

    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Cow<'de, str>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string (or a number or a boolean)")
        }

        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }

        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }

        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }

        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }

        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
    }

    d.deserialize_any(Text)
}

/// A required integer that may arrive as a number or as text (`"priority": "7"`).
pub(crate) fn i64_lenient<'de, D>(d: D) -> Result<i64, D::Error>
where
    D: Deserializer<'de>,
{
    opt_i64_lenient(d)?.ok_or_else(|| serde::de::Error::custom("no integer"))
}

/// A boolean that may be `null` or absent (`false`), or arrive as text or as 1 or 0 (see
/// [`opt_bool_lenient`]).
pub(crate) fn bool_lenient<'de, D>(d: D) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_bool_lenient(d)?.unwrap_or(false))
}

/// Defines an "open" string enum: known variants plus `Other(String)` for values this
/// version does not know yet. Decoding never fails on an unknown value, and
/// `Other` round-trips the original string.
///
/// With a leading `case_insensitive:`, a known value is recognised in any ASCII case and with
/// surrounding blanks (`"PREVIEW"`, `" preview"`); it is written back in its documented case.
macro_rules! open_enum {
    (
        case_insensitive:
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        open_enum!(@define ci; $(#[$meta])* $name { $( $(#[$vmeta])* $variant => $wire, )+ });
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        open_enum!(@define exact; $(#[$meta])* $name { $( $(#[$vmeta])* $variant => $wire, )+ });
    };
    (@known exact; $s:expr) => { $s };
    (@known ci; $s:expr) => { $s.trim() };
    (@eq exact; $s:expr, $wire:literal) => { $s == $wire };
    (@eq ci; $s:expr, $wire:literal) => { $s.eq_ignore_ascii_case($wire) };
    (
        @define $mode:ident;
        $(#[$meta:meta])*
        $name:ident {
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

            /// The known variant written `s`, if any.
            fn known(s: &str) -> Option<Self> {
                let key = open_enum!(@known $mode; s);
                $( if open_enum!(@eq $mode; key, $wire) { return Some(Self::$variant); } )+
                None
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::known(s).unwrap_or_else(|| Self::Other(s.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::known(&s).unwrap_or(Self::Other(s))
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

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use serde::Deserialize;

    use super::{vec_skip_invalid, whole};
    use crate::Reason;

    #[test]
    fn whole_decodes_text_and_bytes_alike() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Answer {
            token: String,
        }
        let answer = |t: &str| {
            Some(Answer {
                token: t.to_owned(),
            })
        };
        assert_eq!(
            whole::<Answer>(br#"{"token": "t\u00e9-1"}"#),
            answer("t\u{e9}-1")
        );
        // Not UTF-8, in a field the model skips: still decoded, as bytes.
        assert_eq!(
            whole::<Answer>(b"{\"token\": \"t-2\", \"x\": \"\xff\"}"),
            answer("t-2")
        );
        // Not UTF-8 where the model reads it, or not the model at all: none.
        assert_eq!(whole::<Answer>(b"{\"token\": \"\xff\"}"), None);
        assert_eq!(whole::<Answer>(br#"{"token": 1}"#), None);
    }

    #[derive(Deserialize)]
    struct Lists {
        #[serde(default, deserialize_with = "vec_skip_invalid")]
        texts: Vec<String>,
        #[serde(default, deserialize_with = "vec_skip_invalid")]
        reasons: Vec<Reason>,
    }

    fn lists(json: &str) -> Result<Lists, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_streamed_list_keeps_strings_escaped_or_not_and_skips_the_rest() {
        let l = lists(
            r#"{"texts": ["plain", "esc\u0061ped", null, 7, true, {"a": ["b"]}, [1], "last"],
                "reasons": ["DEVICE_NEW", "NEW_\u0055PSTREAM", null, {"code": 1}]}"#,
        )
        .unwrap();
        assert_eq!(l.texts, ["plain", "escaped", "last"]);
        assert_eq!(
            l.reasons,
            [Reason::DeviceNew, Reason::Other("NEW_UPSTREAM".into())]
        );
    }

    #[test]
    fn null_or_absent_is_empty_and_a_scalar_is_an_error() {
        assert!(lists(r#"{"texts": null}"#).unwrap().texts.is_empty());
        assert!(lists("{}").unwrap().reasons.is_empty());
        assert!(lists(r#"{"texts": "one"}"#).is_err());
        // The same from a buffered value (the tolerant decoder's second pass).
        let value = serde_json::json!({"texts": ["a", null, 2, "b"]});
        assert_eq!(Lists::deserialize(value).unwrap().texts, ["a", "b"]);
    }
}
