"""Render the JSON written by ``bench_kernels.py --json`` as the Markdown tables of RESULTS.md.

python benchmarks/results_md.py run.json > table.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_kernels import summarise


def render(data: dict) -> str:
    gemm = data["gemm_gflops"]
    peak = max(gemm.values())
    lines = []
    lines.append(
        "| cell | N | L | D | H | mode | torch ms | tsrnn ms | ratio | tsrnn GF/s | torch GF/s | min ratio |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in data["rows"]:
        lines.append(
            f"| {r['cell']} | {r['N']} | {r['L']} | {r['D']} | {r['H']} | {r['mode']} | "
            f"{r['torch_ms']:.3f} | {r['tsrnn_ms']:.3f} | {r['ratio']:.2f} | {r['tsrnn_gflops']:.1f} | "
            f"{r['torch_gflops']:.1f} | {r['ratio_of_minima']:.2f} |"
        )
    lines.append("")
    lines.append("```")
    lines += [line for line in summarise(data["rows"], peak, data.get("startup")) if line]
    lines.append("```")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
