set -o pipefail
# What a refused converge must not change (refuse/prepare.yml, verify.yml).
dpkg-query -W
getent passwd
getent group
find /etc /opt /usr/local /var/lib -xdev -path /var/lib/systemd -prune -o -printf '%p %s %m %T@\n' | sort
