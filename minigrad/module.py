"""``Module``: what every network of either engine has in common."""
from minigrad.autograd import zero_grad


class Module:
    """A function with learnable parameters.

    Subclasses compute their output in ``__call__`` and list their parameters in
    ``parameters()``; a module made of modules lists theirs in order.
    """

    def parameters(self):
        return []

    def zero_grad(self):
        """Forget the gradients of the last backward pass (they would otherwise add up)."""
        zero_grad(self.parameters())

    def num_parameters(self):
        """How many numbers the module learns."""
        return sum(getattr(p, "size", 1) for p in self.parameters())
