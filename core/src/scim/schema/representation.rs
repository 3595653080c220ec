//! The RFC 7643 §7 representation of a schema, served by `GET /Schemas`.

use serde_json::{json, Map, Value};

use super::{AttrDef, AttrType, SchemaDef, SCHEMA_SCHEMA};

/// RFC 7643 §7 representation of a schema, for GET /Schemas and /Schemas/{id}; `base_url` is the
/// directory's SCIM base (e.g. "https://h/scim/v2/directory_01…"), meta.location = base_url + "/Schemas/" + id.
pub fn schema_json(def: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": def.id,
        "name": def.name,
        "description": def.description,
        "attributes": def.attributes.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), def.id),
        },
    })
}

fn attr_json(a: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("type".into(), json!(a.ty.as_str()));
    m.insert("multiValued".into(), json!(a.multi_valued));
    m.insert("description".into(), json!(a.description));
    m.insert("required".into(), json!(a.required));
    if a.ty != AttrType::Complex {
        m.insert("caseExact".into(), json!(a.case_exact));
    }
    if !a.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), json!(a.canonical_values));
    }
    if a.ty == AttrType::Reference {
        m.insert("referenceTypes".into(), json!(a.reference_types));
    }
    m.insert("mutability".into(), json!(a.mutability.as_str()));
    m.insert("returned".into(), json!(a.returned.as_str()));
    m.insert("uniqueness".into(), json!(a.uniqueness));
    if a.ty == AttrType::Complex {
        m.insert(
            "subAttributes".into(),
            Value::Array(a.sub_attributes.iter().map(attr_json).collect()),
        );
    }
    Value::Object(m)
}
