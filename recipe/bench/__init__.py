"""The PyTorch side of `npm run bench` (bench/torch.ts runs torch_bench.py) and the shape pack it measures."""
