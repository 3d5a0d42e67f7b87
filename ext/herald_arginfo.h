/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 26e56de25d15b3e426176296036009bc4c113f63 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_emit, 0, 2, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, idempotencyKey, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_emit_many, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_OBJ_TYPE_MASK(0, messages, Traversable, MAY_BE_ARRAY, NULL)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_channel, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, ttl, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_defer, 0, 2, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_flush, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Herald_pusher_auth, 0, 2, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, socketId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, channelData, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

#define arginfo_class_Herald_RejectedException_getStatus arginfo_Herald_flush

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Herald_RejectedException_getReason, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_Herald_Client___construct, 0, 0, 1)
	ZEND_ARG_TYPE_INFO(0, endpoint, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, secret, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, emitSecret, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, connectTimeoutMs, IS_LONG, 0, "200")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timeoutMs, IS_LONG, 0, "1000")
ZEND_END_ARG_INFO()

#define arginfo_class_Herald_Client_emit arginfo_Herald_emit

#define arginfo_class_Herald_Client_emitMany arginfo_Herald_emit_many

#define arginfo_class_Herald_Client_channel arginfo_Herald_channel

#define arginfo_class_Herald_Client_defer arginfo_Herald_defer

#define arginfo_class_Herald_Client_flush arginfo_Herald_flush

#define arginfo_class_Herald_Client_getEndpoint arginfo_class_Herald_RejectedException_getReason


ZEND_FUNCTION(Herald_emit);
ZEND_FUNCTION(Herald_emit_many);
ZEND_FUNCTION(Herald_channel);
ZEND_FUNCTION(Herald_defer);
ZEND_FUNCTION(Herald_flush);
ZEND_FUNCTION(Herald_pusher_auth);
ZEND_METHOD(Herald_RejectedException, getStatus);
ZEND_METHOD(Herald_RejectedException, getReason);
ZEND_METHOD(Herald_Client, __construct);
ZEND_METHOD(Herald_Client, emit);
ZEND_METHOD(Herald_Client, emitMany);
ZEND_METHOD(Herald_Client, channel);
ZEND_METHOD(Herald_Client, defer);
ZEND_METHOD(Herald_Client, flush);
ZEND_METHOD(Herald_Client, getEndpoint);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("Herald", emit, Herald_emit, arginfo_Herald_emit)
	ZEND_NS_FALIAS("Herald", emit_many, Herald_emit_many, arginfo_Herald_emit_many)
	ZEND_NS_FALIAS("Herald", channel, Herald_channel, arginfo_Herald_channel)
	ZEND_NS_FALIAS("Herald", defer, Herald_defer, arginfo_Herald_defer)
	ZEND_NS_FALIAS("Herald", flush, Herald_flush, arginfo_Herald_flush)
	ZEND_NS_FALIAS("Herald", pusher_auth, Herald_pusher_auth, arginfo_Herald_pusher_auth)
	ZEND_FE_END
};


static const zend_function_entry class_Herald_Exception_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_Herald_ConnectionException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_Herald_RejectedException_methods[] = {
	ZEND_ME(Herald_RejectedException, getStatus, arginfo_class_Herald_RejectedException_getStatus, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_RejectedException, getReason, arginfo_class_Herald_RejectedException_getReason, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};


static const zend_function_entry class_Herald_InvalidArgumentException_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_Herald_Client_methods[] = {
	ZEND_ME(Herald_Client, __construct, arginfo_class_Herald_Client___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, emit, arginfo_class_Herald_Client_emit, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, emitMany, arginfo_class_Herald_Client_emitMany, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, channel, arginfo_class_Herald_Client_channel, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, defer, arginfo_class_Herald_Client_defer, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, flush, arginfo_class_Herald_Client_flush, ZEND_ACC_PUBLIC)
	ZEND_ME(Herald_Client, getEndpoint, arginfo_class_Herald_Client_getEndpoint, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_Herald_Exception(zend_class_entry *class_entry_RuntimeException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Herald", "Exception", class_Herald_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);

	return class_entry;
}

static zend_class_entry *register_class_Herald_ConnectionException(zend_class_entry *class_entry_Herald_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Herald", "ConnectionException", class_Herald_ConnectionException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_Herald_Exception);
	class_entry->ce_flags |= ZEND_ACC_FINAL;

	return class_entry;
}

static zend_class_entry *register_class_Herald_RejectedException(zend_class_entry *class_entry_Herald_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Herald", "RejectedException", class_Herald_RejectedException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_Herald_Exception);
	class_entry->ce_flags |= ZEND_ACC_FINAL;

	zval property_status_default_value;
	ZVAL_LONG(&property_status_default_value, 0);
	zend_string *property_status_name = zend_string_init("status", sizeof("status") - 1, 1);
	zend_declare_typed_property(class_entry, property_status_name, &property_status_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_LONG));
	zend_string_release(property_status_name);

	zval property_reason_default_value;
	ZVAL_EMPTY_STRING(&property_reason_default_value);
	zend_string *property_reason_name = zend_string_init("reason", sizeof("reason") - 1, 1);
	zend_declare_typed_property(class_entry, property_reason_name, &property_reason_default_value, ZEND_ACC_PRIVATE, NULL, (zend_type) ZEND_TYPE_INIT_MASK(MAY_BE_STRING));
	zend_string_release(property_reason_name);

	return class_entry;
}

static zend_class_entry *register_class_Herald_InvalidArgumentException(zend_class_entry *class_entry_Herald_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Herald", "InvalidArgumentException", class_Herald_InvalidArgumentException_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_Herald_Exception);
	class_entry->ce_flags |= ZEND_ACC_FINAL;

	return class_entry;
}

static zend_class_entry *register_class_Herald_Client(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Herald", "Client", class_Herald_Client_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
