<?php

return [
    'default' => 'herald',
    'connections' => [
        'herald' => [
            'driver' => 'herald',
            // the Pusher app key in heraldd's pusher_apps_file (herald.pusher_apps_file)
            'app_key' => env('HERALD_PUSHER_APP_KEY', ''),
        ],
    ],
];
