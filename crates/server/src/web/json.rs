//! The HTTP API's JSON, through the contract's own descriptors: query parameters become the
//! gRPC request (each parameter a field by its JSON name, `scope.asOf` for a nested one,
//! repeated for a list: the convention of Google's HTTP transcoding), and a reply becomes JSON
//! by the protobuf JSON mapping (lower-camel-case names, 64-bit integers as strings, enums by
//! name), with every field present, defaults included, so that a spreadsheet's columns do not
//! come and go.

use std::collections::BTreeMap;

use anyhow::Context as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
    SerializeOptions,
};
use receivables_api::pb;
use serde_json::{Map, Value};

use super::failure::{Failure, FieldProblem};

/// The well-known type of a moment, given as one parameter in RFC 3339.
pub const TIMESTAMP: &str = "google.protobuf.Timestamp";

/// The contract's descriptors (every service, message and enum of `proto/`).
#[derive(Clone)]
pub struct Contract {
    pool: DescriptorPool,
}

impl Contract {
    /// From the descriptor set compiled into the binary (the one reflection serves).
    pub fn load() -> anyhow::Result<Contract> {
        let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET)
            .context("the contract's descriptors cannot be read")?;
        Ok(Contract { pool })
    }

    /// `receivables.v1.<service>`'s method `method`.
    pub fn method(&self, service: &str, method: &str) -> Result<MethodDescriptor, Failure> {
        self.pool
            .get_service_by_name(&format!("receivables.v1.{service}"))
            .and_then(|s| s.methods().find(|m| m.name() == method))
            .ok_or_else(|| Failure::internal(format!("the contract has no {service}.{method}")))
    }

    /// The request message `T` of `descriptor` from `parameters` (name, value; a name may
    /// repeat for a list). Every parameter that names no field, or whose value is not of its
    /// field's type, is reported at once.
    pub fn request<T: prost::Message + Default>(
        &self,
        descriptor: &MessageDescriptor,
        parameters: &[(String, String)],
    ) -> Result<T, Failure> {
        let mut object = Map::new();
        let mut problems = Vec::new();
        for (name, value) in parameters {
            let path: Vec<&str> = name.split('.').collect();
            if let Err(description) = insert(descriptor, &mut object, &path, value) {
                problems.push(FieldProblem {
                    field: name.clone(),
                    parameter: name.clone(),
                    description,
                });
            }
        }
        if !problems.is_empty() {
            return Err(Failure::bad_parameters(problems));
        }
        let dynamic = DynamicMessage::deserialize(descriptor.clone(), Value::Object(object))
            .map_err(|error| {
                Failure::bad_parameters(vec![FieldProblem {
                    field: String::new(),
                    parameter: String::new(),
                    description: error.to_string(),
                }])
            })?;
        dynamic
            .transcode_to::<T>()
            .map_err(|error| Failure::internal(format!("request not transcoded: {error}")))
    }

    /// `message` (of type `descriptor`) as JSON by the protobuf JSON mapping, every field
    /// present.
    pub fn to_json<T: prost::Message>(
        &self,
        descriptor: &MessageDescriptor,
        message: &T,
    ) -> Result<Value, Failure> {
        let mut dynamic = DynamicMessage::new(descriptor.clone());
        dynamic
            .transcode_from(message)
            .map_err(|error| Failure::internal(format!("reply not transcoded: {error}")))?;
        let options = SerializeOptions::new().skip_default_fields(false);
        dynamic
            .serialize_with_options(serde_json::value::Serializer, &options)
            .map_err(|error| Failure::internal(format!("reply not written as JSON: {error}")))
    }

    /// The pool, for the OpenAPI document.
    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }
}

/// Puts the parameter at `path` (its value `value`) into the JSON object of `descriptor`.
fn insert(
    descriptor: &MessageDescriptor,
    object: &mut Map<String, Value>,
    path: &[&str],
    value: &str,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("empty parameter name".to_owned());
    };
    let field =
        field_named(descriptor, first).ok_or_else(|| format!("no parameter {first:?} here"))?;
    let key = field.json_name().to_owned();
    if !rest.is_empty() {
        let Kind::Message(inner) = field.kind() else {
            return Err(format!("{first:?} has no sub-parameters"));
        };
        if field.is_list() || field.is_map() {
            return Err(format!("{first:?} cannot be given as parameters"));
        }
        let entry = object
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(inner_object) = entry else {
            return Err(format!("{first:?} given twice"));
        };
        return insert(&inner, inner_object, rest, value);
    }
    let scalar = scalar(&field, value)?;
    if field.is_list() {
        match object
            .entry(key)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(values) => values.push(scalar),
            _ => return Err(format!("{first:?} given twice")),
        }
    } else if object.insert(key, scalar).is_some() {
        return Err(format!("{first:?} given more than once"));
    }
    Ok(())
}

/// The field named `name` in its JSON name (`asOf`) or its protobuf name (`as_of`).
fn field_named(descriptor: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    descriptor
        .get_field_by_json_name(name)
        .or_else(|| descriptor.get_field_by_name(name))
}

/// A parameter's text as the JSON value of `field`'s type.
fn scalar(field: &FieldDescriptor, value: &str) -> Result<Value, String> {
    let name = field.json_name();
    match field.kind() {
        Kind::String => Ok(Value::String(value.to_owned())),
        Kind::Bool => match value {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{name} is true or false, not {value:?}")),
        },
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => value
            .parse::<u64>()
            .map(Value::from)
            .map_err(|_| format!("{name} is a whole number of at least 0, not {value:?}")),
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64 => value
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{name} is a whole number, not {value:?}")),
        Kind::Enum(enumeration) => {
            // The value's full name (AGING_GROUP_BY_SUBSIDIARY), the same without the enum's
            // prefix in any case (subsidiary), or its number.
            let prefix = enum_prefix(enumeration.name());
            let wanted = value.to_ascii_uppercase();
            enumeration
                .values()
                .find(|v| {
                    v.name() == value
                        || v.name().strip_prefix(&prefix) == Some(wanted.as_str())
                        || value.parse::<i32>().ok() == Some(v.number())
                })
                .map(|v| Value::String(v.name().to_owned()))
                .ok_or_else(|| {
                    let names: Vec<String> =
                        enumeration.values().map(|v| v.name().to_owned()).collect();
                    format!("{name} is one of {}, not {value:?}", names.join(", "))
                })
        }
        // A moment, in RFC 3339 (2026-03-31T18:00:00Z), as the JSON mapping writes it.
        Kind::Message(message) if message.full_name() == TIMESTAMP => {
            Ok(Value::String(value.to_owned()))
        }
        Kind::Message(_) => Err(format!(
            "{name} takes sub-parameters ({name}.<field>), not a value"
        )),
        Kind::Float | Kind::Double | Kind::Bytes => {
            Err(format!("{name} cannot be given as a parameter"))
        }
    }
}

/// `AgingGroupBy` → `AGING_GROUP_BY_`: the prefix every value of an enum carries by the
/// style guide.
pub fn enum_prefix(enum_name: &str) -> String {
    let mut prefix = String::new();
    for (i, c) in enum_name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            prefix.push('_');
        }
        prefix.push(c.to_ascii_uppercase());
    }
    prefix.push('_');
    prefix
}

/// The parameters a request message takes, flattened (`scope.asOf`), with their kinds: what
/// the OpenAPI document lists. Lists of messages and maps are left out: no parameter sets
/// them.
pub fn parameters(descriptor: &MessageDescriptor) -> BTreeMap<String, FieldDescriptor> {
    let mut out = BTreeMap::new();
    flatten(descriptor, "", &mut out, 0);
    out
}

/// How deep nested messages are followed for parameters (the contract nests two deep).
const PARAMETER_DEPTH_MAX: usize = 4;

fn flatten(
    descriptor: &MessageDescriptor,
    prefix: &str,
    out: &mut BTreeMap<String, FieldDescriptor>,
    depth: usize,
) {
    for field in descriptor.fields() {
        let name = format!("{prefix}{}", field.json_name());
        match field.kind() {
            Kind::Message(inner)
                if !field.is_list() && !field.is_map() && inner.full_name() != TIMESTAMP =>
            {
                if depth < PARAMETER_DEPTH_MAX {
                    flatten(&inner, &format!("{name}."), out, depth + 1);
                }
            }
            Kind::Message(inner) if inner.full_name() != TIMESTAMP => {}
            _ => {
                out.insert(name, field);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(parameters: &[(&str, &str)]) -> Result<pb::GetAgingReportRequest, Failure> {
        let contract = Contract::load().expect("contract");
        let method = contract
            .method("QueryService", "GetAgingReport")
            .expect("method");
        let parameters: Vec<(String, String)> = parameters
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        contract.request(&method.input(), &parameters)
    }

    #[test]
    fn parameters_fill_nested_fields_lists_and_enums() {
        let request = request(&[
            ("scope.asOf", "2026-03-31"),
            ("scope.bucketEdgesDays", "30"),
            ("scope.bucket_edges_days", "90"),
            ("groupBy", "subsidiary"),
            ("minPosition", "12"),
        ])
        .expect("request");
        let scope = request.scope.expect("scope");
        assert_eq!(scope.as_of, "2026-03-31");
        assert_eq!(scope.bucket_edges_days, vec![30, 90]);
        assert_eq!(
            request.group_by,
            pb::AgingGroupBy::Subsidiary as i32,
            "the short name of the enum's value"
        );
        assert_eq!(request.min_position, 12);
    }

    #[test]
    fn every_bad_parameter_is_named_at_once() {
        let failure = request(&[
            ("scope.asOf", "2026-03-31"),
            ("groupBy", "PLANET"),
            ("minPosition", "-1"),
            ("colour", "red"),
            ("minPosition", "3"),
        ])
        .expect_err("refused");
        let named: Vec<&str> = failure
            .fields
            .iter()
            .map(|f| f.parameter.as_str())
            .collect();
        assert_eq!(named, ["groupBy", "minPosition", "colour"]);
        assert_eq!(failure.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(
            failure.fields[0]
                .description
                .contains("AGING_GROUP_BY_SUBSIDIARY")
        );
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        let failure = request(&[("scope.asOf", "2026-03-31"), ("scope.asOf", "2026-04-30")])
            .expect_err("refused");
        assert_eq!(failure.fields.len(), 1);
        assert!(failure.fields[0].description.contains("more than once"));
    }

    #[test]
    fn enum_prefixes_follow_the_style_guide() {
        assert_eq!(enum_prefix("AgingGroupBy"), "AGING_GROUP_BY_");
        assert_eq!(enum_prefix("PromiseStatus"), "PROMISE_STATUS_");
    }
}
