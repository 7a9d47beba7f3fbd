"""PyTorch models (torch.nn.GRU, torch.nn.LSTM, a causal pre-LN Transformer)."""
