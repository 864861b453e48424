# Makes the study "made" in a new Optuna storage: mixed distributions, a parameter only some
# trials have, a pruned, a failed and an enqueued trial; prints each trial as Optuna sees it, as
# JSON. Usage: make_study.py STORAGE_FILE
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.CRITICAL)
storage = "sqlite:///" + sys.argv[1]
study = optuna.create_study(study_name="made", storage=storage, direction="maximize",
                            sampler=optuna.samplers.RandomSampler(seed=7))
def objective(trial):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    layers = trial.suggest_int("layers", 1, 4)
    units = trial.suggest_int("units", 16, 256, log=True)
    width = trial.suggest_int("width", 8, 64, step=8)
    kind = trial.suggest_categorical("kind", ["adam", "sgd", None, True, 3])
    if trial.number % 2 == 0:
        trial.suggest_float("momentum", 0.0, 0.99)
    score = lr * 100 + dropout + layers + units / 100 + width / 10
    for step in range(3):
        trial.report(score * (step + 1) / 3, step)
    if trial.number == 2:
        raise optuna.TrialPruned()
    if trial.number == 3:
        raise RuntimeError("boom")
    return score
study.optimize(objective, n_trials=6, catch=(RuntimeError,))
study.enqueue_trial({"lr": 0.001, "layers": 2, "kind": "sgd"})
out = []
for t in study.trials:
    out.append({"number": t.number, "state": t.state.name, "value": None if t.values is None else t.values[0],
                "params": t.params or t.system_attrs.get("fixed_params", {}),
                "intermediate": {str(k): v for k, v in t.intermediate_values.items()}})
print(json.dumps({"best": study.best_trial.number, "trials": out}))
