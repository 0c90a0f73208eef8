import torch

from seqclf.training.lbfgs import minimize_lbfgs


def test_a_convex_quadratic_reaches_its_minimum():
    generator = torch.Generator().manual_seed(0)
    root = torch.randn(50, 50, generator=generator, dtype=torch.float64)
    curvature = root @ root.T / 50 + torch.eye(50, dtype=torch.float64)  # (50, 50), positive definite
    target = torch.randn(50, generator=generator, dtype=torch.float64)

    def objective(x):
        return 0.5 * x @ curvature @ x - target @ x, curvature @ x - target

    found = minimize_lbfgs(objective, torch.zeros(50, dtype=torch.float64), iterations=500, tolerance=1e-14)
    assert torch.allclose(found, torch.linalg.solve(curvature, target), atol=1e-6)


def test_a_penalized_logistic_regression_ends_where_its_gradient_vanishes():
    x, y = torch.tensor([1.0, -1.0, 2.0, -0.5], dtype=torch.float64), torch.tensor([1.0, 0.0, 1.0, 1.0],
                                                                                     dtype=torch.float64)

    def objective(w):
        p = torch.sigmoid(w[0] * x + w[1])
        loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean() + 0.1 * w[0] ** 2
        residual = (p - y) / len(x)
        return loss, torch.stack([(residual * x).sum() + 0.2 * w[0], residual.sum()])

    w = minimize_lbfgs(objective, torch.zeros(2, dtype=torch.float64), tolerance=1e-12)
    assert objective(w)[1].abs().max() < 1e-6
