"""``python -m perceive_ir_arch.train -opt OPTIONS.yml``: see ``perceive_ir_arch.runners.train``."""
from perceive_ir_arch.runners.train import main

if __name__ == '__main__':
    from perceive_ir_arch.utils.errors import user_errors

    with user_errors('python -m perceive_ir_arch.train'):
        main()
