"""Shared fixtures."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_torch_thread():
    """One PyTorch thread for a test module that asks for it (``pytestmark``): the test machines' 2 cores
    are shared, and PyTorch's 2 OpenMP threads then stall on tiny ops (40 train steps of a small nn.GRU:
    9.2 s at load 3 vs 0.024 s with one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
