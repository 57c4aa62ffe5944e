//! A synthetic ONNX embedder written byte by byte (a minimal protobuf writer
//! for ModelProto): its output depends only on two fixed pixel blocks, so the
//! important region of every test that uses it is known exactly.

use facexplain::pipeline::Embedder;
use image::{Rgb, RgbImage};

pub const SIDE: usize = 112;
/// The two blocks `(row0, col0)` of side 12 the synthetic embedder looks at;
/// their centres (32,32) and (80,80) are Mery grid points for d = 16.
pub const BLOCKS: [(usize, usize); 2] = [(26, 26), (74, 74)];
pub const B: usize = 12;

pub fn in_block(y: usize, x: usize) -> bool {
    BLOCKS
        .iter()
        .any(|&(r, c)| (r..r + B).contains(&y) && (c..c + B).contains(&x))
}

// ---- a minimal protobuf writer for ONNX ModelProto ----

#[derive(Default)]
pub struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(mut self, field: u64, v: i64) -> Self {
        self.varint(field << 3);
        self.varint(v as u64);
        self
    }
    fn bytes(mut self, field: u64, b: &[u8]) -> Self {
        self.varint((field << 3) | 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn str(self, field: u64, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }
    fn msg(self, field: u64, m: Pb) -> Self {
        self.bytes(field, &m.0)
    }
}

/// TensorProto (float) with dims, name and raw little-endian data.
pub fn tensor(name: &str, dims: &[i64], data: &[f32]) -> Pb {
    let mut t = Pb::default();
    for &d in dims {
        t = t.int(1, d);
    }
    let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    t.int(2, 1).str(8, name).bytes(9, &raw)
}

/// ValueInfoProto of a float tensor; `None` dims are symbolic ("N").
pub fn value_info(name: &str, dims: &[Option<i64>]) -> Pb {
    let mut shape = Pb::default();
    for d in dims {
        shape = shape.msg(
            1,
            match d {
                Some(v) => Pb::default().int(1, *v),
                None => Pb::default().str(2, "N"),
            },
        );
    }
    let tensor_type = Pb::default().int(1, 1).msg(2, shape);
    Pb::default()
        .str(1, name)
        .msg(2, Pb::default().msg(1, tensor_type))
}

pub fn node(op: &str, inputs: &[&str], output: &str) -> Pb {
    let mut n = Pb::default();
    for i in inputs {
        n = n.str(1, i);
    }
    n.str(2, output)
        .str(3, &format!("{op}_{output}"))
        .str(4, op)
}

/// `[N,3,112,112] → [N,3]`, Flatten → MatMul(W) → Add(bias); nothing outside
/// the blocks matters. `separate`: (100, mean of block 1, mean of block 2);
/// otherwise (100, mean of both blocks, 0), so the score against a face with
/// the same blocks rises monotonically with how much of the blocks is shown.
pub fn block_embedder_onnx(separate: bool) -> Vec<u8> {
    let n_in = 3 * SIDE * SIDE;
    let mut w = vec![0.0f32; n_in * 3];
    for (k, &(r, c)) in BLOCKS.iter().enumerate() {
        let (col, weight) = if separate {
            (k + 1, 1.0 / (3 * B * B) as f32)
        } else {
            (1, 1.0 / (6 * B * B) as f32)
        };
        for ch in 0..3 {
            for y in r..r + B {
                for x in c..c + B {
                    w[(ch * SIDE * SIDE + y * SIDE + x) * 3 + col] = weight;
                }
            }
        }
    }
    let graph = Pb::default()
        .msg(1, node("Flatten", &["x"], "flat"))
        .msg(1, node("MatMul", &["flat", "w"], "proj"))
        .msg(1, node("Add", &["proj", "b"], "y"))
        .str(2, "blocks")
        .msg(5, tensor("w", &[n_in as i64, 3], &w))
        .msg(5, tensor("b", &[3], &[100.0, 0.0, 0.0]))
        .msg(
            11,
            value_info("x", &[None, Some(3), Some(SIDE as i64), Some(SIDE as i64)]),
        )
        .msg(12, value_info("y", &[None, Some(3)]));
    Pb::default()
        .int(1, 8)
        .str(2, "facexplain-test")
        .msg(7, graph)
        .msg(8, Pb::default().str(1, "").int(2, 13))
        .0
}

pub fn block_embedder(separate: bool) -> Embedder {
    let mut e = Embedder::from_onnx_bytes("blocks", &block_embedder_onnx(separate))
        .expect("synthetic ONNX model loads");
    e.batch = 64;
    e
}

/// A face-sized image: seeded texture everywhere, `level` inside the blocks.
pub fn synthetic_face(seed: u32, level: u8) -> RgbImage {
    RgbImage::from_fn(SIDE as u32, SIDE as u32, |x, y| {
        if in_block(y as usize, x as usize) {
            Rgb([level; 3])
        } else {
            let h =
                (x.wrapping_mul(73856093) ^ y.wrapping_mul(19349663) ^ seed.wrapping_mul(83492791))
                    % 251;
            Rgb([h as u8, (h * 7 % 251) as u8, (h * 13 % 251) as u8])
        }
    })
}
