"""assignkit: autograded PyTorch homework kit."""
