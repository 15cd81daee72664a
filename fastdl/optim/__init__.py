"""fastdl.optim: optimizers with fused C updates, and LR schedules."""
