# Prints a study of an Optuna storage as Optuna reads it, as one JSON object (NaN as "nan"), then
# carries on with it: asks for a trial with the first trial's distributions (Optuna hands out a
# waiting trial first, with its enqueued parameters) and tells it. Usage: describe_study.py FILE NAME
import json, math, sys, optuna
from optuna.distributions import distribution_to_json
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.load_study(study_name=sys.argv[2], storage="sqlite:///" + sys.argv[1])
def number(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else v
trials = []
for t in study.trials:
    trials.append({"number": t.number, "state": t.state.name,
                   "value": None if t.values is None else t.values[0], "params": t.params,
                   "distributions": {k: json.loads(distribution_to_json(d)) for k, d in t.distributions.items()},
                   "intermediate": {str(k): number(v) for k, v in t.intermediate_values.items()},
                   "fixed_params": t.system_attrs.get("fixed_params"),
                   "started": t.datetime_start is not None, "finished": t.datetime_complete is not None})
best = study.best_trial
asked = study.ask(dict(study.trials[0].distributions))
study.tell(asked, 0.5)
print(json.dumps({"direction": study.direction.name, "best": best.number, "best_value": best.value,
                  "trials": trials, "asked": asked.number, "asked_params": study.trials[asked.number].params,
                  "after_tell": len(study.trials)}))
