from quality.models_workflow import ReviewAction, ReviewDecision  # noqa: F401
