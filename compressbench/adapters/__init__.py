"""Built-in tokenizer adapters: one module per family, each registering itself.

Adding a family takes one new module here (or an entry point in another
package) and no edit anywhere else: the registry imports every module of this
package, so an adapter module must not import its heavy back-end at import time.
"""
