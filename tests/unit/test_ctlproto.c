#include "sema/ctlproto.h"
#include "tests/unit/tap.h"

int main(void)
{
	ok(ias_ctl_op_name(IAS_CTL_OP_STATUS) != NULL, "placeholder");
	return tap_done();
}
