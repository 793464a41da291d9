"""Make the baseline images of tests/plots/test_forest.py (run from the project root:
`python -m tests.baseline.make_baseline`). Look at every image before committing it."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).parent
METAFOR = HERE.parent / "validation" / "metafor"


def draw(name: str, path) -> None:
    import matplotlib.pyplot as plt

    from metail2 import pool
    from metail2.errors import MetailWarning
    from metail2.plots import forest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        if name == "forest_bcg_rr_by_allocation":
            fp = forest(pool(METAFOR / "bcg.csv", "RR", by="allocation"), favours=("vaccine", "control"))
        elif name == "forest_normand_md_jama":
            fp = forest(pool(METAFOR / "normand1999.csv", "MD"), style="jama", prediction=True,
                        favours=("stroke unit", "general ward"))
        else:
            raise KeyError(name)
    fp.savefig(path, dpi=100)
    plt.close(fp.figure)


if __name__ == "__main__":
    for name in ("forest_bcg_rr_by_allocation", "forest_normand_md_jama"):
        draw(name, HERE / f"{name}.png")
    (HERE / "versions.json").write_text(json.dumps({"matplotlib": matplotlib.__version__}) + "\n")
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.png"))))
