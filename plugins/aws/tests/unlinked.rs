//! The counterpart of `it`: this test binary depends on steward-plugin-aws (every test of the
//! package may use it) but never names it, so the linker leaves it out and its tools are not
//! registered (rust-lang/rust#64402). Plugins are picked up by linking them, nothing else.

use steward_tools::Registry;

#[test]
fn an_unlinked_plugin_registers_nothing() {
    let registry = Registry::from_inventory().unwrap();
    assert_eq!(registry.names(), ["clock"]);
}
