"""``python -m perceive_ir_arch.render_medium -opt OPTIONS.yml``: see ``perceive_ir_arch.runners.render``."""
from perceive_ir_arch.runners.render import main

if __name__ == '__main__':
    from perceive_ir_arch.utils.errors import user_errors

    with user_errors('python -m perceive_ir_arch.render_medium'):
        main()
