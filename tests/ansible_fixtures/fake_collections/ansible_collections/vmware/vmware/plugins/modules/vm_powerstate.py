#!/usr/bin/python
# Test double of vmware.vmware.vm_powerstate (tests/ansible.rs): records the
# power change in $VIRTPLAN_FAKE_STATE/<name>.json and in rollback.log.
import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="str"), state=dict(type="str")),
        supports_check_mode=True,
    )
    name = module.params["name"]
    state = os.environ["VIRTPLAN_FAKE_STATE"]
    path = os.path.join(state, name + ".json")
    if module.check_mode:
        module.exit_json(changed=True)
    if os.path.exists(path):
        with open(path) as f:
            vm = json.load(f)
        vm["power"] = "poweredOff" if module.params["state"] == "powered-off" else "poweredOn"
        with open(path, "w") as f:
            json.dump(vm, f)
    with open(os.path.join(state, "rollback.log"), "a") as f:
        f.write("%s %s\n" % (module.params["state"], name))
    module.exit_json(changed=True)


if __name__ == "__main__":
    main()
