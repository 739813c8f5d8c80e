"""A case from entry to exit: ApplicantWorkflow (workflow.py) and what it is made of."""
