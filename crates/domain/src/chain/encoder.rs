//! The canonical encoding written straight from a value's `Serialize`, or from a JSON text as
//! it is read.
//!
//! The definition of the encoding is [`write_canonical`] over a `serde_json::Value`; building
//! that `Value` for every event (a map node and a string for every member) cost more than
//! decoding the event. [`CanonicalEncoder`] writes the same bytes without it: each object's
//! members are written one after the other into the output, then put in order by name in place
//! when the object ends; its buffers are kept from one event to the next. A text is read into
//! the same writer by `serde_transcode` ([`CanonicalEncoder::encode_json`]), and the outermost
//! object's members stay readable after it ([`CanonicalEncoder::outermost_member`]).
//!
//! It only takes the kinds of values events are made of: strings, integers, booleans, nulls,
//! arrays, objects with string keys and enum variants. Anything else (a floating-point number, an
//! 128-bit integer, bytes, a map key that is not a string, an error of the value's own
//! `Serialize`) makes it hand the value to the definition instead, so that the result, error
//! included, is always what the definition gives.

use std::fmt::{self, Display};
use std::io::Write as _;
use std::ops::Range;

use serde::Serialize;
use serde::ser::{self, Serializer};
use serde_json::Value;

use super::{ChainError, write_canonical, write_string};

/// Structs with these names are serde_json's own tokens (raw values, arbitrary-precision
/// numbers), which only `serde_json::Value` knows how to read.
const SERDE_JSON_PRIVATE_PREFIX: &str = "$serde_json::private::";

/// Bytes the output buffer starts with: an encoded event is about 800.
const OUTPUT_BYTES_INITIAL: usize = 1024;

/// Writes canonical JSON, keeping its buffers from one value to the next.
#[derive(Debug, Default)]
pub struct CanonicalEncoder {
    writer: Writer,
}

/// The state of the fast path; serde drives it through `&mut Writer`.
#[derive(Debug, Default)]
struct Writer {
    out: Vec<u8>,
    /// The names of the members of the objects being written (innermost last).
    keys: String,
    /// The members of the objects being written (innermost last).
    members: Vec<Member>,
    /// Where an object's members are copied while they are put in order.
    scratch: Vec<u8>,
    /// Where a value written with `Display` (a date, an amount) is put before it is escaped.
    text: String,
    /// Objects and arrays open around the value being written.
    depth: usize,
    /// The outermost object's members are still in `members`, `keys` and `scratch` (from 0)
    /// after the last encoding ([`CanonicalEncoder::outermost_member`]).
    outermost_kept: bool,
    /// The member of the outermost object to leave out.
    leave_out: Option<&'static str>,
}

/// One member of an object being written: its name in `keys`, its value in `out`.
#[derive(Debug, Clone)]
struct Member {
    key: Range<usize>,
    /// The name's first eight bytes as a number (zeros after a shorter name): members are put
    /// in order by it, and by the whole names only where it is the same.
    prefix: u64,
    value: Range<usize>,
}

/// [`Member::prefix`] of `name`: comparing two is comparing their first eight bytes.
fn prefix_of(name: &[u8]) -> u64 {
    let mut first = [0; 8];
    let length = name.len().min(8);
    first[..length].copy_from_slice(&name[..length]);
    u64::from_be_bytes(first)
}

/// Why the fast path gave the value to the definition: never seen by callers.
#[derive(Debug)]
pub(super) struct Fallback;

impl Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value outside the kinds events are made of")
    }
}

impl std::error::Error for Fallback {}

impl ser::Error for Fallback {
    fn custom<T: Display>(_: T) -> Self {
        Fallback
    }
}

impl CanonicalEncoder {
    pub fn new() -> Self {
        CanonicalEncoder {
            writer: Writer {
                out: Vec::with_capacity(OUTPUT_BYTES_INITIAL),
                ..Writer::default()
            },
        }
    }

    /// The canonical encoding of `value`, without the member `leave_out` of its outermost
    /// object: exactly what [`write_canonical`] writes for `serde_json::to_value(value)` with
    /// that member removed, errors included.
    pub fn encode<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        leave_out: Option<&'static str>,
    ) -> Result<&[u8], ChainError> {
        if self.encode_fast(value, leave_out).is_err() {
            let out = &mut self.writer.out;
            out.clear();
            let mut value =
                serde_json::to_value(value).map_err(|e| ChainError::Unencodable(e.to_string()))?;
            if let (Value::Object(members), Some(name)) = (&mut value, leave_out) {
                members.remove(name);
            }
            write_canonical(&value, out)?;
        }
        Ok(&self.writer.out)
    }

    /// The canonical encoding of the JSON text `json` (an event as the log stores it), without
    /// the member `leave_out` of its outermost object: exactly what [`write_canonical`] writes
    /// for the `serde_json::Value` the text reads as, with that member removed, errors included.
    ///
    /// The text is read once and each value written as it is read (`serde_transcode` drives the
    /// same writer as [`CanonicalEncoder::encode`] from serde_json's reader): no `Value` is
    /// built, and no type of the domain either, so the bytes hashed are the bytes stored, a
    /// member that no type of the domain reads included.
    pub fn encode_json(
        &mut self,
        json: &[u8],
        leave_out: Option<&'static str>,
    ) -> Result<&[u8], ChainError> {
        if self.encode_json_fast(json, leave_out).is_err() {
            let out = &mut self.writer.out;
            out.clear();
            let mut value: Value =
                serde_json::from_slice(json).map_err(|e| ChainError::NotJson(e.to_string()))?;
            if let (Value::Object(members), Some(name)) = (&mut value, leave_out) {
                members.remove(name);
            }
            write_canonical(&value, out)?;
        }
        Ok(&self.writer.out)
    }

    /// The fast path of [`CanonicalEncoder::encode_json`] alone: `Err` when the text needs the
    /// definition's path (which also tells why it is not JSON, when it is not).
    pub(super) fn encode_json_fast(
        &mut self,
        json: &[u8],
        leave_out: Option<&'static str>,
    ) -> Result<(), Fallback> {
        let writer = self.writer.start(leave_out);
        let mut reader = serde_json::Deserializer::from_slice(json);
        serde_transcode::transcode(&mut reader, &mut *writer)?;
        reader.end().map_err(|_| Fallback)
    }

    /// The canonical encoding of the member `name` of the outermost object of the last value
    /// encoded (its last, when it came twice), `leave_out` included: read without another pass
    /// over the whole text. `None` when it has none, and whenever that encoding took the
    /// definition's path or its outermost value was not an object
    /// ([`CanonicalEncoder::kept_outermost`] tells these apart).
    pub(super) fn outermost_member(&self, name: &str) -> Option<&[u8]> {
        let writer = &self.writer;
        if !writer.outermost_kept {
            return None;
        }
        writer
            .members
            .iter()
            .rev()
            .find(|member| writer.keys[member.key.clone()] == *name)
            .map(|member| &writer.scratch[member.value.clone()])
    }

    /// Whether the last encoding keeps its outermost object's members for
    /// [`CanonicalEncoder::outermost_member`].
    pub(super) fn kept_outermost(&self) -> bool {
        self.writer.outermost_kept
    }

    /// The fast path alone: `Err` when the value needs the definition's path.
    pub(super) fn encode_fast<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        leave_out: Option<&'static str>,
    ) -> Result<(), Fallback> {
        let writer = self.writer.start(leave_out);
        value.serialize(writer)
    }
}

impl Writer {
    /// Cleared for a new value, leaving `leave_out` out of its outermost object.
    fn start(&mut self, leave_out: Option<&'static str>) -> &mut Writer {
        self.out.clear();
        self.keys.clear();
        self.members.clear();
        self.depth = 0;
        self.outermost_kept = false;
        self.leave_out = leave_out;
        self
    }

    fn write_display(&mut self, value: impl Display) -> Result<(), Fallback> {
        write!(self.out, "{value}").map_err(|_| Fallback)
    }

    /// Values other than objects at the outermost level have no member to leave out, but the
    /// definition would leave one out of a variant's wrapping object: those few cases take the
    /// definition's path.
    fn check_not_outermost_with_leave_out(&self) -> Result<(), Fallback> {
        if self.depth == 0 && self.leave_out.is_some() {
            return Err(Fallback);
        }
        Ok(())
    }

    /// Opens an object whose members follow.
    fn open_object(&mut self) -> ObjectWriter<'_> {
        let leave_out = if self.depth == 0 {
            self.leave_out
        } else {
            None
        };
        self.depth += 1;
        ObjectWriter {
            start: self.out.len(),
            first_member: self.members.len(),
            first_key: self.keys.len(),
            leave_out,
            pending_key: None,
            close_variant: false,
            encoder: self,
        }
    }

    /// Opens `{"variant":` around a variant's content.
    fn open_variant(&mut self, variant: &str) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        self.out.push(b'{');
        write_string(variant, &mut self.out);
        self.out.push(b':');
        Ok(())
    }

    fn open_array(&mut self, close_variant: bool) -> ArrayWriter<'_> {
        self.depth += 1;
        self.out.push(b'[');
        ArrayWriter {
            first: true,
            close_variant,
            encoder: self,
        }
    }
}

/// The members of one object, written in the order they come and sorted when it ends.
struct ObjectWriter<'a> {
    encoder: &'a mut Writer,
    /// Where the object's members begin in `out`.
    start: usize,
    first_member: usize,
    first_key: usize,
    leave_out: Option<&'static str>,
    pending_key: Option<Range<usize>>,
    /// The object is a struct variant's content: close its wrapping object too.
    close_variant: bool,
}

impl ObjectWriter<'_> {
    fn key(&mut self, key: &str) {
        let begin = self.encoder.keys.len();
        self.encoder.keys.push_str(key);
        self.pending_key = Some(begin..self.encoder.keys.len());
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        let key = self.pending_key.take().ok_or(Fallback)?;
        let begin = self.encoder.out.len();
        value.serialize(&mut *self.encoder)?;
        let end = self.encoder.out.len();
        let prefix = prefix_of(&self.encoder.keys.as_bytes()[key.clone()]);
        self.encoder.members.push(Member {
            key,
            prefix,
            value: begin..end,
        });
        Ok(())
    }

    /// Writes the members again in order of their names, as `{"name":value,...}`. A name that
    /// comes twice keeps its last value, as in a map.
    fn end(self) -> Result<(), Fallback> {
        let Writer {
            out,
            keys,
            members: all_members,
            scratch,
            depth,
            outermost_kept,
            ..
        } = &mut *self.encoder;
        let outermost = *depth == 1 && self.start == 0 && !self.close_variant;
        let members = &mut all_members[self.first_member..];
        // Stable: of members with the same name, the last written stays last.
        members.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then_with(|| keys[a.key.clone()].cmp(&keys[b.key.clone()]))
        });
        scratch.clear();
        scratch.extend_from_slice(&out[self.start..]);
        out.truncate(self.start);
        out.push(b'{');
        let mut first = true;
        for (index, member) in members.iter().enumerate() {
            let name = &keys[member.key.clone()];
            let repeated = members
                .get(index + 1)
                .is_some_and(|next| keys[next.key.clone()] == *name);
            if repeated || self.leave_out == Some(name) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_string(name, out);
            out.push(b':');
            out.extend_from_slice(
                &scratch[member.value.start - self.start..member.value.end - self.start],
            );
        }
        out.push(b'}');
        if self.close_variant {
            out.push(b'}');
        }
        if outermost {
            // Left for `outermost_member`; the next encoding clears them.
            *outermost_kept = true;
        } else {
            all_members.truncate(self.first_member);
            keys.truncate(self.first_key);
        }
        *depth -= 1;
        Ok(())
    }
}

/// The elements of one array, written as they come.
struct ArrayWriter<'a> {
    encoder: &'a mut Writer,
    first: bool,
    /// The array is a tuple variant's content: close its wrapping object too.
    close_variant: bool,
}

impl ArrayWriter<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        if !self.first {
            self.encoder.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.encoder)
    }

    fn end(self) -> Result<(), Fallback> {
        self.encoder.out.push(b']');
        if self.close_variant {
            self.encoder.out.push(b'}');
        }
        self.encoder.depth -= 1;
        Ok(())
    }
}

impl<'a> Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = ArrayWriter<'a>;
    type SerializeTuple = ArrayWriter<'a>;
    type SerializeTupleStruct = ArrayWriter<'a>;
    type SerializeTupleVariant = ArrayWriter<'a>;
    type SerializeMap = ObjectWriter<'a>;
    type SerializeStruct = ObjectWriter<'a>;
    type SerializeStructVariant = ObjectWriter<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Fallback> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Fallback> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Fallback> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        self.write_display(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), Fallback> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Fallback> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Fallback> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        self.write_display(v)
    }

    fn serialize_i128(self, _: i128) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_u128(self, _: u128) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f32(self, _: f32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f64(self, _: f64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_char(self, v: char) -> Result<(), Fallback> {
        let mut buffer = [0; 4];
        self.serialize_str(v.encode_utf8(&mut buffer))
    }

    fn serialize_str(self, v: &str) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        write_string(v, &mut self.out);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Fallback> {
        Err(Fallback)
    }

    /// As `serialize_str` of the value's text, without a new `String` for each.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let written = fmt::Write::write_fmt(&mut text, format_args!("{value}"));
        if written.is_ok() {
            write_string(&text, &mut self.out);
        }
        self.text = text;
        written.map_err(|_| Fallback)
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        self.check_not_outermost_with_leave_out()?;
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Fallback> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Fallback> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        self.open_variant(variant)?;
        self.depth += 1;
        value.serialize(&mut *self)?;
        self.depth -= 1;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<ArrayWriter<'a>, Fallback> {
        self.check_not_outermost_with_leave_out()?;
        Ok(self.open_array(false))
    }

    fn serialize_tuple(self, len: usize) -> Result<ArrayWriter<'a>, Fallback> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<ArrayWriter<'a>, Fallback> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<ArrayWriter<'a>, Fallback> {
        self.open_variant(variant)?;
        Ok(self.open_array(true))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<ObjectWriter<'a>, Fallback> {
        Ok(self.open_object())
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<ObjectWriter<'a>, Fallback> {
        if name.starts_with(SERDE_JSON_PRIVATE_PREFIX) {
            return Err(Fallback);
        }
        Ok(self.open_object())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<ObjectWriter<'a>, Fallback> {
        self.open_variant(variant)?;
        let mut object = self.open_object();
        object.close_variant = true;
        Ok(object)
    }
}

impl ser::SerializeSeq for ArrayWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ArrayWriter::end(self)
    }
}

impl ser::SerializeTuple for ArrayWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ArrayWriter::end(self)
    }
}

impl ser::SerializeTupleStruct for ArrayWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ArrayWriter::end(self)
    }
}

impl ser::SerializeTupleVariant for ArrayWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.element(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ArrayWriter::end(self)
    }
}

impl ser::SerializeMap for ObjectWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Fallback> {
        let begin = self.encoder.keys.len();
        key.serialize(KeyWriter {
            keys: &mut self.encoder.keys,
        })?;
        self.pending_key = Some(begin..self.encoder.keys.len());
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Fallback> {
        self.value(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ObjectWriter::end(self)
    }
}

impl ser::SerializeStruct for ObjectWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        self.key(key);
        self.value(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ObjectWriter::end(self)
    }
}

impl ser::SerializeStructVariant for ObjectWriter<'_> {
    type Ok = ();
    type Error = Fallback;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        self.key(key);
        self.value(value)
    }

    fn end(self) -> Result<(), Fallback> {
        ObjectWriter::end(self)
    }
}

/// A map key: only strings (and what serializes as one) are taken here; `serde_json::Value`
/// turns some other keys (integers, booleans) into strings, which the definition's path does.
struct KeyWriter<'a> {
    keys: &'a mut String,
}

impl Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Fallback;
    type SerializeSeq = ser::Impossible<(), Fallback>;
    type SerializeTuple = ser::Impossible<(), Fallback>;
    type SerializeTupleStruct = ser::Impossible<(), Fallback>;
    type SerializeTupleVariant = ser::Impossible<(), Fallback>;
    type SerializeMap = ser::Impossible<(), Fallback>;
    type SerializeStruct = ser::Impossible<(), Fallback>;
    type SerializeStructVariant = ser::Impossible<(), Fallback>;

    fn serialize_str(self, v: &str) -> Result<(), Fallback> {
        self.keys.push_str(v);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Fallback> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Fallback> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_i8(self, _: i8) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_i16(self, _: i16) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_i32(self, _: i32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_i64(self, _: i64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_u8(self, _: u8) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_u16(self, _: u16) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_u32(self, _: u32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_u64(self, _: u64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f32(self, _: f32) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_f64(self, _: f64) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_char(self, _: char) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_none(self) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_unit(self) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Fallback> {
        Err(Fallback)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Fallback> {
        Err(Fallback)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Fallback> {
        Err(Fallback)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Fallback> {
        Err(Fallback)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Fallback> {
        Err(Fallback)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Fallback> {
        Err(Fallback)
    }
}
