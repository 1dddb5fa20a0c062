// Translation unit that carries the precompiled <torch/torch.h> for the other targets.
