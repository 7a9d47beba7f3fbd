"""Speed and its fidelity: the timer, thread control, speed workers, the matmul peak."""
