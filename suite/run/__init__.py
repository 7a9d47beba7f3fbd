"""From config to stored results: plan, work units, training, execution, the batch, the notebook API."""
