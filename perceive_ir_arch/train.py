"""``python -m perceive_ir_arch.train -opt OPTIONS.yml``: see ``perceive_ir_arch.runners.train``."""
from perceive_ir_arch.runners.train import main
from perceive_ir_arch.utils.errors import user_errors

if __name__ == '__main__':
    with user_errors('python -m perceive_ir_arch.train'):
        main()
