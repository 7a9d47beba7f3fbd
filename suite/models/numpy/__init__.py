"""From-scratch NumPy models: forward and hand-written backward (BPTT)."""
