"""``python -m perceive_ir_arch.test -opt OPTIONS.yml``: see ``perceive_ir_arch.runners.test``."""
from perceive_ir_arch.runners.test import main
from perceive_ir_arch.utils.errors import user_errors

if __name__ == '__main__':
    with user_errors('python -m perceive_ir_arch.test'):
        main()
