//! A trained ensemble as an ONNX model: one `ai.onnx.ml` `TreeEnsembleRegressor` node from
//! input `features` (float, [N, F]) to output `variable` (float, [N, 1]). The graph and its
//! attributes are described in `docs/model-format.md`.
//!
//! The protobuf messages are written by hand with `prost`'s derive, with the field numbers of
//! ONNX's `onnx.proto`: only the messages and fields this writer needs, so no protoc and no
//! generated code in the build. Fields `prost` would skip when zero (proto3 rules) are
//! `optional` where ONNX gives presence a meaning (`ir_version`, an attribute's value).
//!
//! Versions are those ONNX Runtime 1.31 accepts (see ../shared/SETUP.md): IR version 8,
//! default opset 17, `ai.onnx.ml` opset 3 (where `TreeEnsembleRegressor` has
//! `nodes_missing_value_tracks_true`).

use prost::Message;

use super::gbdt::{Model, Node};

/// IR version 8 is the one of ONNX 1.12, which introduced opset 17.
pub const IR_VERSION: i64 = 8;
pub const DEFAULT_OPSET: i64 = 17;
pub const ML_OPSET: i64 = 3;
pub const ML_DOMAIN: &str = "ai.onnx.ml";
pub const INPUT: &str = "features";
pub const OUTPUT: &str = "variable";

/// `TensorProto.DataType.FLOAT`.
pub const FLOAT: i32 = 1;

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(int64, optional, tag = "1")]
    pub ir_version: Option<i64>,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    #[prost(string, optional, tag = "2")]
    pub producer_name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub producer_version: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub domain: Option<String>,
    #[prost(int64, optional, tag = "5")]
    pub model_version: Option<i64>,
    #[prost(string, optional, tag = "6")]
    pub doc_string: Option<String>,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    #[prost(string, optional, tag = "1")]
    pub domain: Option<String>,
    #[prost(int64, optional, tag = "2")]
    pub version: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct StringStringEntryProto {
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, optional, tag = "2")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "10")]
    pub doc_string: Option<String>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub op_type: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub domain: Option<String>,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    #[prost(string, optional, tag = "6")]
    pub doc_string: Option<String>,
}

/// `AttributeProto.AttributeType` values used here.
pub mod attribute_type {
    pub const FLOAT: i32 = 1;
    pub const INT: i32 = 2;
    pub const STRING: i32 = 3;
    pub const FLOATS: i32 = 6;
    pub const INTS: i32 = 7;
    pub const STRINGS: i32 = 8;
}

/// Repeated numbers are written unpacked, as proto2 (which `onnx.proto` is) does by default;
/// protobuf readers accept both, this keeps our bytes like other writers'.
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "20")]
    pub r#type: Option<i32>,
    #[prost(float, optional, tag = "2")]
    pub f: Option<f32>,
    #[prost(int64, optional, tag = "3")]
    pub i: Option<i64>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub s: Option<Vec<u8>>,
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
}

impl AttributeProto {
    fn named(name: &str, r#type: i32) -> AttributeProto {
        AttributeProto { name: Some(name.to_string()), r#type: Some(r#type), ..Default::default() }
    }

    pub fn int(name: &str, value: i64) -> AttributeProto {
        AttributeProto { i: Some(value), ..Self::named(name, attribute_type::INT) }
    }

    pub fn string(name: &str, value: &str) -> AttributeProto {
        AttributeProto {
            s: Some(value.as_bytes().to_vec()),
            ..Self::named(name, attribute_type::STRING)
        }
    }

    pub fn ints(name: &str, values: Vec<i64>) -> AttributeProto {
        AttributeProto { ints: values, ..Self::named(name, attribute_type::INTS) }
    }

    pub fn floats(name: &str, values: Vec<f32>) -> AttributeProto {
        AttributeProto { floats: values, ..Self::named(name, attribute_type::FLOATS) }
    }

    pub fn strings(name: &str, values: &[&str]) -> AttributeProto {
        AttributeProto {
            strings: values.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Self::named(name, attribute_type::STRINGS)
        }
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    #[prost(string, optional, tag = "3")]
    pub doc_string: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    #[prost(oneof = "type_proto::Value", tags = "1")]
    pub value: Option<type_proto::Value>,
}

pub mod type_proto {
    /// `TypeProto`'s `value` oneof; only tensors here (sequences and maps are for other
    /// `ai.onnx.ml` operators).
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(message, tag = "1")]
        TensorType(Tensor),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tensor {
        #[prost(int32, optional, tag = "1")]
        pub elem_type: Option<i32>,
        #[prost(message, optional, tag = "2")]
        pub shape: Option<super::TensorShapeProto>,
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<tensor_shape_proto::Dimension>,
}

pub mod tensor_shape_proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        #[prost(oneof = "dimension::Value", tags = "1, 2")]
        pub value: Option<dimension::Value>,
    }

    pub mod dimension {
        /// A dimension is a number or a symbolic name (`N` for the batch).
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Value {
            #[prost(int64, tag = "1")]
            DimValue(i64),
            #[prost(string, tag = "2")]
            DimParam(String),
        }
    }
}

fn dim(value: tensor_shape_proto::dimension::Value) -> tensor_shape_proto::Dimension {
    tensor_shape_proto::Dimension { value: Some(value) }
}

/// A float tensor value named `name` of shape [N, `columns`].
fn float_matrix(name: &str, columns: usize) -> ValueInfoProto {
    use tensor_shape_proto::dimension::Value::{DimParam, DimValue};
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto {
                    dim: vec![dim(DimParam("N".to_string())), dim(DimValue(to_i64(columns)))],
                }),
            })),
        }),
        doc_string: None,
    }
}

/// Sizes and indices in ONNX are int64; ours come from in-memory vectors, far below 2^63.
fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The node-wise attribute lists of `TreeEnsembleRegressor`, one entry per node of every tree,
/// and the target lists, one entry per leaf.
#[derive(Default)]
struct Nodes {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    feature_ids: Vec<i64>,
    modes: Vec<&'static str>,
    values: Vec<f32>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    missing_tracks_true: Vec<i64>,
    target_tree_ids: Vec<i64>,
    target_node_ids: Vec<i64>,
    target_weights: Vec<f32>,
}

impl Nodes {
    fn push(&mut self, tree: i64, id: usize, node: &Node) {
        self.tree_ids.push(tree);
        self.node_ids.push(to_i64(id));
        match *node {
            Node::Split { feature, threshold, left, right, default_left } => {
                self.feature_ids.push(to_i64(feature));
                // BRANCH_LEQ: `x <= threshold` goes to the true branch, the comparison the Rust
                // trees make; NaN fails it, so it goes false unless it "tracks true".
                self.modes.push("BRANCH_LEQ");
                self.values.push(threshold);
                self.true_ids.push(to_i64(left));
                self.false_ids.push(to_i64(right));
                self.missing_tracks_true.push(i64::from(default_left));
            }
            Node::Leaf { value } => {
                self.feature_ids.push(0);
                self.modes.push("LEAF");
                self.values.push(0.0);
                self.true_ids.push(0);
                self.false_ids.push(0);
                self.missing_tracks_true.push(0);
                self.target_tree_ids.push(tree);
                self.target_node_ids.push(to_i64(id));
                self.target_weights.push(value);
            }
        }
    }
}

/// The `TreeEnsembleRegressor` node computing `model`.
pub fn tree_ensemble_node(model: &Model) -> NodeProto {
    let mut nodes = Nodes::default();
    for (tree, t) in model.trees.iter().enumerate() {
        for (id, node) in t.nodes.iter().enumerate() {
            nodes.push(to_i64(tree), id, node);
        }
    }
    if model.trees.is_empty() {
        // An ensemble without trees predicts its base value; ONNX Runtime wants at least one
        // node, so a single leaf adding zero stands in.
        nodes.push(0, 0, &Node::Leaf { value: 0.0 });
    }
    let leaves = nodes.target_weights.len();
    NodeProto {
        input: vec![INPUT.to_string()],
        output: vec![OUTPUT.to_string()],
        name: Some("ensemble".to_string()),
        op_type: Some("TreeEnsembleRegressor".to_string()),
        domain: Some(ML_DOMAIN.to_string()),
        attribute: vec![
            AttributeProto::string("aggregate_function", "SUM"),
            AttributeProto::floats("base_values", vec![model.base]),
            AttributeProto::int("n_targets", 1),
            AttributeProto::ints("nodes_falsenodeids", nodes.false_ids),
            AttributeProto::ints("nodes_featureids", nodes.feature_ids),
            AttributeProto::ints("nodes_missing_value_tracks_true", nodes.missing_tracks_true),
            AttributeProto::strings("nodes_modes", &nodes.modes),
            AttributeProto::ints("nodes_nodeids", nodes.node_ids),
            AttributeProto::ints("nodes_treeids", nodes.tree_ids),
            AttributeProto::ints("nodes_truenodeids", nodes.true_ids),
            AttributeProto::floats("nodes_values", nodes.values),
            AttributeProto::string("post_transform", "NONE"),
            AttributeProto::ints("target_ids", vec![0; leaves]),
            AttributeProto::ints("target_nodeids", nodes.target_node_ids),
            AttributeProto::ints("target_treeids", nodes.target_tree_ids),
            AttributeProto::floats("target_weights", nodes.target_weights),
        ],
        doc_string: None,
    }
}

/// The whole model: graph, opsets, and the residual quantiles of `model.spread` as metadata
/// (`git-lineage.residual_quantiles`, JSON numbers) so that an interval can be given from the
/// file alone.
pub fn model_proto(model: &Model) -> ModelProto {
    let opset = |domain: &str, version| OperatorSetIdProto {
        domain: Some(domain.to_string()),
        version: Some(version),
    };
    let quantiles: Vec<String> =
        model.spread.residual_quantiles.iter().map(f64::to_string).collect();
    ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![opset("", DEFAULT_OPSET), opset(ML_DOMAIN, ML_OPSET)],
        producer_name: Some("git-lineage".to_string()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        domain: None,
        model_version: Some(1),
        doc_string: Some("Gradient-boosted regression trees trained by git-lineage".to_string()),
        graph: Some(GraphProto {
            node: vec![tree_ensemble_node(model)],
            name: Some("git_lineage_gbdt".to_string()),
            doc_string: None,
            input: vec![float_matrix(INPUT, model.n_features)],
            output: vec![float_matrix(OUTPUT, 1)],
        }),
        metadata_props: vec![StringStringEntryProto {
            key: Some("git-lineage.residual_quantiles".to_string()),
            value: Some(format!("[{}]", quantiles.join(","))),
        }],
    }
}

/// The model as the bytes of an `.onnx` file.
pub fn to_bytes(model: &Model) -> Vec<u8> {
    model_proto(model).encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::gbdt::{Params, Spread, train};

    fn attribute<'a>(node: &'a NodeProto, name: &str) -> &'a AttributeProto {
        node.attribute.iter().find(|a| a.name.as_deref() == Some(name)).unwrap()
    }

    #[test]
    fn bytes_decode_back_to_the_ensemble() {
        let x = crate::predict::gbdt::tests::rows(500, 5, 0.1, 11);
        let y: Vec<f64> = x.chunks(5).map(crate::predict::gbdt::tests::target).collect();
        let model = train(&x, 5, &y, &[], &Params { max_trees: 20, ..Params::default() }).unwrap();
        let bytes = to_bytes(&model);
        let decoded = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, model_proto(&model));
        assert_eq!(decoded.ir_version, Some(IR_VERSION));
        let graph = decoded.graph.as_ref().unwrap();
        let node = &graph.node[0];
        assert_eq!(node.op_type.as_deref(), Some("TreeEnsembleRegressor"));
        assert_eq!(node.domain.as_deref(), Some(ML_DOMAIN));
        assert_eq!(graph.input[0].name.as_deref(), Some(INPUT));

        let total: usize = model.trees.iter().map(|t| t.nodes.len()).sum();
        let leaves = model
            .trees
            .iter()
            .flat_map(|t| &t.nodes)
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count();
        for name in ["nodes_nodeids", "nodes_treeids", "nodes_truenodeids", "nodes_featureids"] {
            assert_eq!(attribute(node, name).ints.len(), total, "{name}");
        }
        assert_eq!(attribute(node, "nodes_modes").strings.len(), total);
        assert_eq!(attribute(node, "target_weights").floats.len(), leaves);
        assert_eq!(attribute(node, "base_values").floats, vec![model.base]);
        // Thresholds go through bit for bit.
        let thresholds: Vec<f32> = model
            .trees
            .iter()
            .flat_map(|t| &t.nodes)
            .map(|n| match n {
                Node::Split { threshold, .. } => *threshold,
                Node::Leaf { .. } => 0.0,
            })
            .collect();
        assert_eq!(attribute(node, "nodes_values").floats, thresholds);
    }

    #[test]
    fn field_numbers_match_onnx_proto() {
        // ir_version is field 1 (varint: tag byte 0x08), graph field 7 (length-delimited: 0x3a),
        // opset_import field 8 (0x42): what any ONNX reader looks for.
        let proto = model_proto(&Model {
            n_features: 1,
            base: 1.0,
            trees: vec![],
            validation_rmse: vec![],
            spread: Spread { residual_quantiles: vec![], held_out: false },
        });
        let bytes = proto.encode_to_vec();
        assert_eq!(&bytes[..2], &[0x08, 8]);
        let fields: Vec<u8> = {
            let mut tags = Vec::new();
            let mut rest = bytes.as_slice();
            while !rest.is_empty() {
                let key = rest[0];
                tags.push(key);
                rest = &rest[1..];
                match key & 7 {
                    0 => {
                        while rest[0] & 0x80 != 0 {
                            rest = &rest[1..];
                        }
                        rest = &rest[1..];
                    }
                    2 => {
                        let (mut len, mut shift) = (0usize, 0);
                        loop {
                            let b = rest[0];
                            rest = &rest[1..];
                            len |= usize::from(b & 0x7f) << shift;
                            shift += 7;
                            if b & 0x80 == 0 {
                                break;
                            }
                        }
                        rest = &rest[len..];
                    }
                    other => panic!("unexpected wire type {other}"),
                }
            }
            tags
        };
        assert!(fields.contains(&0x3a) && fields.contains(&0x42), "{fields:x?}");
        // No trees: one placeholder leaf adding zero.
        let node = &proto.graph.unwrap().node[0];
        assert_eq!(attribute(node, "target_weights").floats, vec![0.0]);
    }
}
