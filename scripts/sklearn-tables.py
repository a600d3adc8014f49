#!/usr/bin/env python3
"""Exports scikit-learn's bundled tables to CSV for `nabla train`, and measures a tuned
scikit-learn MLP on the same split as `nabla train --seed 42 --test 0.2` uses.

Run with Debian's own Python after `apt-get install python3-sklearn`:
    /usr/bin/python3 scripts/sklearn-tables.py OUTDIR [--baseline]
Writes OUTDIR/{wine,breast_cancer,digits,iris,diabetes}.csv (a header line; features, then
`label`; diabetes's label is its disease-progression number). With --baseline it also
grid-searches MLPClassifier (MLPRegressor for diabetes: standardised inputs; hidden sizes, L2
penalty and learning rate by 5-fold cross-validation on the training rows) and prints one JSON
line per table and split seed with its test accuracy (test RMSE for diabetes). --seeds 42,1,2
picks the split seeds (default 42), as `nabla train --seed S --test 0.2` splits.
"""
import json
import sys
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TABLES = {
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "diabetes": datasets.load_diabetes,
}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, load in TABLES.items():
        data = load()
        columns = [f"f{i}" for i in range(data.data.shape[1])] if name == "digits" else \
            [c.replace(" ", "_").replace("/", "_") for c in data.feature_names]
        with open(out / f"{name}.csv", "w", encoding="utf-8") as f:
            f.write(",".join(columns + ["label"]) + "\n")
            for row, label in zip(data.data, data.target):
                f.write(",".join(repr(float(v)) for v in row) + (f",{float(label)!r}\n" if name == "diabetes" else f",{int(label)}\n"))
        if "--baseline" not in sys.argv:
            continue
        seeds = [int(v) for v in sys.argv[sys.argv.index("--seeds") + 1].split(",")] if "--seeds" in sys.argv else [42]
        regression = name == "diabetes"
        for seed in seeds:
            x_train, x_test, y_train, y_test = train_test_split(
                data.data, data.target, test_size=0.2, stratify=None if regression else data.target, random_state=seed)
            model = MLPRegressor(max_iter=2000, random_state=0) if regression else MLPClassifier(max_iter=2000, random_state=0)
            prefix = "mlpregressor" if regression else "mlpclassifier"
            grid = GridSearchCV(
                make_pipeline(StandardScaler(), model),
                {
                    f"{prefix}__hidden_layer_sizes": [(64,), (64, 32), (128, 64)],
                    f"{prefix}__alpha": [1e-4, 1e-3, 1e-2, 1e-1],
                    f"{prefix}__learning_rate_init": [1e-3, 1e-2],
                },
                cv=5, n_jobs=1, scoring="neg_root_mean_squared_error" if regression else None)
            grid.fit(x_train, y_train)
            score = -grid.score(x_test, y_test) if regression else grid.score(x_test, y_test)
            print(json.dumps({"table": name, "seed": seed, "rows": len(data.target),
                              ("test_rmse" if regression else "test_accuracy"): round(float(score), 4),
                              "best": {k.split("__")[1]: v for k, v in grid.best_params_.items()}}), flush=True)


if __name__ == "__main__":
    main()
