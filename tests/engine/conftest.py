import pytest
import torch
from toy_data import make_toy_dataset

from genai_engine.data import Dataset


@pytest.fixture
def toy_dataset() -> Dataset:
    return make_toy_dataset()


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models train faster on one thread, and two spinning OpenMP pools on a busy 2-core
    machine slow each other down badly."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
