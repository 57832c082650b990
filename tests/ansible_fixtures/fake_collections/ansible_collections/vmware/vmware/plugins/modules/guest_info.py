#!/usr/bin/python
# Test double of vmware.vmware.guest_info (tests/ansible.rs): reports the
# VM the fake converter recorded in $VIRTPLAN_FAKE_STATE/<name>.json, or
# fails as an unreachable vCenter would when $VIRTPLAN_FAKE_VCENTER_DOWN is set.
import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="str", aliases=["guest_name"])),
        supports_check_mode=True,
    )
    if os.environ.get("VIRTPLAN_FAKE_VCENTER_DOWN"):
        module.fail_json(msg="Unable to connect to vCenter or ESXi API")
    name = module.params["name"]
    path = os.path.join(os.environ["VIRTPLAN_FAKE_STATE"], name + ".json")
    guests = []
    if os.path.exists(path):
        with open(path) as f:
            vm = json.load(f)
        guests = [{"hw_name": name, "hw_power_status": vm["power"], "hw_esxi_host": vm["host"]}]
    module.exit_json(changed=False, guests=guests)


if __name__ == "__main__":
    main()
