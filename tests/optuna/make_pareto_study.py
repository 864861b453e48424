# Makes the two-objective study "pareto" in a new Optuna storage. Usage: make_pareto_study.py FILE
import sys, optuna
optuna.logging.set_verbosity(optuna.logging.CRITICAL)
study = optuna.create_study(study_name="pareto", storage="sqlite:///" + sys.argv[1],
                            directions=["minimize", "maximize"])
study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=3)
