import os
import sys

import torch

# Tests are small; one thread each keeps parallel runs on a 2-core machine
# from fighting over cores.
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(__file__))
