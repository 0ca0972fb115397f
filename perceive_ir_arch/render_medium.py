"""``python -m perceive_ir_arch.render_medium -opt OPTIONS.yml``: see ``perceive_ir_arch.runners.render``."""
from perceive_ir_arch.runners.render import main
from perceive_ir_arch.utils.errors import user_errors

if __name__ == '__main__':
    with user_errors('python -m perceive_ir_arch.render_medium'):
        main()
