"""A labour request: EmployerPermitWorkflow (workflow.py) and what it is made of."""
