"""PyTorch used the ordinary way: nn.Linear + nn.Sigmoid, nn.CrossEntropyLoss, autograd (``loss.backward()``),
optim.SGD, on the CPU or a CUDA device.

The data are torch tensors made before timing (on the CPU sharing memory with the NumPy arrays, on a GPU copied
there once); each step slices them. On a GPU the epoch ends with ``torch.cuda.synchronize()``.
"""

from __future__ import annotations

from ..problem import LR, SIZES, Params, Problem, copy_params
from .base import Peer, Unavailable


class TorchCPU(Peer):
    key = "torch"
    label = "PyTorch CPU"

    def __init__(self, threads: int, device: str = "cpu") -> None:
        try:
            import torch
        except ImportError as exc:
            raise Unavailable(f"torch is not installed ({exc})") from exc
        self.torch = torch
        self.device = device
        if device != "cpu":
            self.label = f"PyTorch autograd ({device})"
        torch.set_num_threads(threads)

    def setup(self, data: Problem, batch_size: int) -> None:
        torch, nn = self.torch, self.torch.nn
        d, h, k = SIZES
        self.l1, self.l2 = nn.Linear(d, h), nn.Linear(h, k)
        self.model = nn.Sequential(self.l1, nn.Sigmoid(), self.l2).to(self.device)
        self.loss = nn.CrossEntropyLoss()
        self.X, self.y = torch.from_numpy(data.X).to(self.device), torch.from_numpy(data.y).to(self.device)
        self.b = batch_size

    def load(self, params: Params) -> None:
        torch = self.torch
        W1, b1, W2, b2 = params
        with torch.no_grad():  # torch keeps Linear weights as (out, in)
            self.l1.weight.copy_(torch.from_numpy(W1.T.copy()))
            self.l1.bias.copy_(torch.from_numpy(b1))
            self.l2.weight.copy_(torch.from_numpy(W2.T.copy()))
            self.l2.bias.copy_(torch.from_numpy(b2))  # copy_ moves CPU values to the parameters' device
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=0.0)

    def epoch(self) -> None:
        X, y, B, model, loss, opt = self.X, self.y, self.b, self.model, self.loss, self.optimizer
        for s in range(0, len(X), B):
            opt.zero_grad()
            loss(model(X[s : s + B]), y[s : s + B]).backward()
            opt.step()
        if self.device != "cpu":
            self.torch.cuda.synchronize()

    def params(self) -> Params:
        def np_(t):  # noqa: ANN001, ANN202
            return t.detach().cpu().numpy()

        return copy_params((np_(self.l1.weight).T, np_(self.l1.bias), np_(self.l2.weight).T, np_(self.l2.bias)))

    def describe(self) -> dict[str, object]:
        return {"torch_threads": self.torch.get_num_threads()}
